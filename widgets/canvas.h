// The image views: a QGraphicsView whose scene is in source-image pixels, with wheel zoom, pan
// (middle button, or space + drag), an optional guide tool that receives the left button, and
// zoom/pan kept in sync between views. The result view also compares: result only, side by side
// with the guide view, a wipe between source and result, or an overlay.
#pragma once

#include <QGraphicsItem>
#include <QGraphicsView>
#include <QImage>
#include <QPointer>

class QGraphicsPixmapItem;

namespace bft::studio {

class GuideTool;

class CanvasView : public QGraphicsView {
    Q_OBJECT
public:
    explicit CanvasView(QWidget* parent = nullptr);

    void setBackground(const QImage& image); // defines the scene rect (source pixels)
    QGraphicsPixmapItem* backgroundItem() const { return background_; }
    void setTool(GuideTool* tool);           // not owned; nullptr: view only
    GuideTool* tool() const;
    void fitToWindow();
    double zoom() const;
    // Both views show the same part of the image from now on.
    static void link(CanvasView* a, CanvasView* b);

Q_SIGNALS:
    void viewChanged();
    void hovered(QPointF scenePos); // source pixels

protected:
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void follow(CanvasView* other);

    QGraphicsPixmapItem* background_ = nullptr;
    QPointer<GuideTool> tool_;
    bool panning_ = false, spaceDown_ = false, syncing_ = false, fitted_ = true;
    QPoint panStart_;
};

// Draws the result over the source: Result (result only), Wipe (source left of a vertical line,
// result right of it), Overlay (result over source with an opacity).
class CompareItem : public QGraphicsItem {
public:
    enum Mode { ResultOnly, Wipe, Overlay };
    CompareItem();
    void setImages(const QImage& source, const QImage& result); // both drawn over the source rect
    void setMode(Mode mode);
    void setAmount(double t); // wipe position or overlay opacity, 0..1
    const QImage& result() const { return result_; }
    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    QImage source_, result_;
    QSizeF size_;
    Mode mode_ = ResultOnly;
    double amount_ = 0.5;
};

} // namespace bft::studio
