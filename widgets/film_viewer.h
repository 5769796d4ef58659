// The gamma/beta viewer: the per-pixel scale (gamma) and shift (beta) maps that each stream
// predicts for the other, at every level, from the same forward pass the shown result came from.
// Pick level, direction, gamma or beta, and a channel or a summary over channels (mean, max |.|,
// first three principal components as RGB); colour map with a legend; hover shows the value;
// optional overlay on the image; export as PNG or .npy.
#pragma once

#include "live.h"

#include <QImage>
#include <QWidget>

#include <map>
#include <memory>
#include <string>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace bft::studio {

class CanvasView;
class ColorLegend;

class FilmViewer : public QWidget {
    Q_OBJECT
public:
    enum Summary { Channel, Mean, MaxAbs, Pca };
    explicit FilmViewer(QWidget* parent = nullptr);

    // Shared, not copied: a full-size ResNet's maps are about 120 MB, which a copy on the GUI thread
    // took tens of milliseconds to make (null: none).
    using Maps = std::shared_ptr<const std::map<std::string, live::Raster>>;
    void setMaps(Maps maps, const QImage& image);
    bool hasMaps() const { return maps_ && !maps_->empty(); }
    // Selection, by the fixtures' names: level 1.., "g2i" or "i2g", "gamma" or "beta".
    void select(int level, const QString& direction, const QString& kind, Summary summary, int channel = 0);
    QString currentKey() const; // e.g. "gamma_g2i_L2"
    // What is on screen: the 2-D values (or 3 components for PCA), their range, the picture.
    const live::Raster& shown() const { return shown_; }
    float shownMin() const { return lo_; }
    float shownMax() const { return hi_; }
    QImage picture() const { return picture_; }
    QString valueText(QPointF imagePos) const; // what hovering there shows

    bool exportPng(const QString& path, QString* error) const;
    bool exportNpy(const QString& path, QString* error) const;

Q_SIGNALS:
    void message(const QString& text);

private:
    void rebuildChoices();
    void recompute(); // the summary of the selected map, then compose()
    void compose();   // the picture over (or without) the image
    void exportDialog();

    Maps maps_;
    QImage image_;
    live::Raster shown_;
    float lo_ = 0, hi_ = 1;
    QImage picture_;

    QComboBox* level_;
    QComboBox* direction_;
    QComboBox* kind_;
    QComboBox* summary_;
    QSpinBox* channel_;
    QCheckBox* overlay_;
    QSlider* opacity_;
    CanvasView* view_;
    ColorLegend* legend_;
    QLabel* hover_;
    QLabel* empty_;
};

} // namespace bft::studio
