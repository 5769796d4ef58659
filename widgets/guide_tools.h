// Guide editing tools over the guide view, one per task. A tool draws its overlay as a graphics
// item in the view's scene (source-pixel coordinates), turns left-button drags into commands on
// the document (guide_commands.h), and tells the window when a drag starts and ends (drags render
// at the preview size, releases at full size).
#pragma once

#include "document.h"

#include <QGraphicsItem>
#include <QObject>
#include <QPointF>

namespace bft::studio {

class CanvasView;

class GuideTool : public QObject {
    Q_OBJECT
public:
    explicit GuideTool(Document* doc, QObject* parent = nullptr) : QObject(parent), doc_(doc) {}
    // Puts the tool's overlay into `view`'s scene (and takes it out of the previous one).
    virtual void attach(CanvasView* view) = 0;
    virtual void detach() = 0;
    // Return true when the event was used.
    virtual bool press(QPointF pos, Qt::KeyboardModifiers mods, CanvasView* view) = 0;
    virtual bool move(QPointF pos, Qt::MouseButtons buttons, CanvasView* view) = 0;
    virtual bool release(QPointF pos, CanvasView* view) = 0;
    virtual bool doubleClick(QPointF, CanvasView*) { return false; }
    bool dragging() const { return dragId_ >= 0; }

Q_SIGNALS:
    void dragStarted();
    void dragFinished();

protected:
    Document* doc_;
    int dragId_ = -1;
};

// Pose: keypoints as handles, limbs in OpenPose colours; drag a keypoint; double-click hides or
// restores it; the selected keypoint is highlighted (the panel's hide/restore acts on it).
class PoseTool : public GuideTool {
    Q_OBJECT
public:
    explicit PoseTool(Document* doc, QObject* parent = nullptr);
    ~PoseTool() override;
    void attach(CanvasView* view) override;
    void detach() override;
    bool press(QPointF pos, Qt::KeyboardModifiers mods, CanvasView* view) override;
    bool move(QPointF pos, Qt::MouseButtons buttons, CanvasView* view) override;
    bool release(QPointF pos, CanvasView* view) override;
    bool doubleClick(QPointF pos, CanvasView* view) override;
    int selected() const { return selected_; }
    void setSelected(int k);
    // The keypoint whose handle is at `pos` (within 10 screen pixels), or -1.
    int keypointAt(QPointF pos, double sceneUnitsPerPixel) const;

Q_SIGNALS:
    void selectionChanged(int keypoint);

private:
    class Item;
    Item* item_ = nullptr;
    int selected_ = -1;
    QPointF grabOffset_;
};

// Depth: a brush that paints a value into the low-resolution grid or erases readings; Ctrl+click
// picks the value under the cursor. The overlay is the grid, colour-mapped, over the RGB.
class DepthTool : public GuideTool {
    Q_OBJECT
public:
    explicit DepthTool(Document* doc, QObject* parent = nullptr);
    ~DepthTool() override;
    void attach(CanvasView* view) override;
    void detach() override;
    bool press(QPointF pos, Qt::KeyboardModifiers mods, CanvasView* view) override;
    bool move(QPointF pos, Qt::MouseButtons buttons, CanvasView* view) override;
    bool release(QPointF pos, CanvasView* view) override;

    void setValue(double metres) { value_ = metres; }
    double value() const { return value_; }
    void setRadius(int cells) { radius_ = std::max(0, cells); }
    void setErasing(bool erase) { erase_ = erase; }
    void setOpacity(double o);
    void refresh(); // the document's grid changed

Q_SIGNALS:
    void valuePicked(double metres);

private:
    void paintAt(QPointF pos);
    class Item;
    Item* item_ = nullptr;
    double value_ = 2.0;
    int radius_ = 1;
    bool erase_ = false;
    live::Raster stroke_;
};

// Texture: patches drawn with their texture; drag to move, drag the corner handle to resize;
// the selected patch can be removed from the panel.
class TextureTool : public GuideTool {
    Q_OBJECT
public:
    explicit TextureTool(Document* doc, QObject* parent = nullptr);
    ~TextureTool() override;
    void attach(CanvasView* view) override;
    void detach() override;
    bool press(QPointF pos, Qt::KeyboardModifiers mods, CanvasView* view) override;
    bool move(QPointF pos, Qt::MouseButtons buttons, CanvasView* view) override;
    bool release(QPointF pos, CanvasView* view) override;
    int selected() const { return selected_; }
    void setSelected(int index);
    void refresh();

Q_SIGNALS:
    void selectionChanged(int index);

private:
    class Item;
    Item* item_ = nullptr;
    int selected_ = -1;
    bool resizing_ = false;
    QPointF grab_;
    QRectF startRect_;
};

} // namespace bft::studio
