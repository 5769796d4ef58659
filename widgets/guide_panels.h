// The side panel of each task's guide editor: buttons and settings beside the canvas tool
// (pose: hide/restore, mirror, reset, OpenPose JSON; depth: import, factor, brush, legend;
// texture: sketch, textures, patches). Import/export of guides lives here too.
#pragma once

#include "document.h"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace bft::studio {

class ColorLegend;
class DepthTool;
class PoseTool;
class TextureTool;

class PosePanel : public QWidget {
    Q_OBJECT
public:
    PosePanel(Document* doc, PoseTool* tool, QWidget* parent = nullptr);
    bool importJson(const QString& path, QString* error);
    bool exportJson(const QString& path, QString* error);

Q_SIGNALS:
    void message(const QString& text);

private:
    void updateSelection();
    Document* doc_;
    PoseTool* tool_;
    QLabel* selected_;
    QPushButton* toggle_;
};

class DepthPanel : public QWidget {
    Q_OBJECT
public:
    DepthPanel(Document* doc, DepthTool* tool, QWidget* parent = nullptr);
    bool importDepth(const QString& path, QString* error);
    bool exportDepth(const QString& path, QString* error); // the low-resolution grid the user edited

Q_SIGNALS:
    void message(const QString& text);

private:
    Document* doc_;
    DepthTool* tool_;
    QComboBox* factor_;
    QDoubleSpinBox* value_;
    QSpinBox* radius_;
    QRadioButton* erase_;
    ColorLegend* legend_;
};

class TexturePanel : public QWidget {
    Q_OBJECT
public:
    TexturePanel(Document* doc, TextureTool* tool, QWidget* parent = nullptr);
    bool importTexture(const QString& path, QString* error);
    bool importSketch(const QString& path, QString* error);
    void placePatch(int texture); // a new patch of that texture in the middle of the sketch
    bool exportLayout(const QString& path, QString* error); // patches as JSON, textures beside it

Q_SIGNALS:
    void message(const QString& text);

private:
    void refreshTextures();
    Document* doc_;
    TextureTool* tool_;
    QListWidget* textures_;
    QPushButton* remove_;
};

} // namespace bft::studio
