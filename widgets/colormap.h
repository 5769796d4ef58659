// Colour maps for single-channel data (depth, gamma/beta maps) and the legend bar that explains
// them.
#pragma once

#include <QColor>
#include <QImage>
#include <QWidget>

namespace bft::studio {

// Viridis: perceptually even, readable in grey, colour-blind safe. t in [0, 1].
QColor viridis(double t);
// Maps values[i] over [lo, hi] to an RGB image; NaN or `hole` (when hole_is_set) become transparent.
QImage colorize(const float* values, int width, int height, float lo, float hi, bool zeroIsHole = false);

class ColorLegend : public QWidget {
    Q_OBJECT
public:
    explicit ColorLegend(QWidget* parent = nullptr);
    void setRange(double lo, double hi, const QString& unit);
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    double lo_ = 0, hi_ = 1;
    QString unit_;
};

} // namespace bft::studio
