#include "canvas.h"

#include "guide_tools.h"

#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>

#include <cmath>

namespace bft::studio {

CanvasView::CanvasView(QWidget* parent) : QGraphicsView(parent)
{
    setScene(new QGraphicsScene(this));
    background_ = scene()->addPixmap(QPixmap());
    background_->setTransformationMode(Qt::SmoothTransformation);
    background_->setZValue(-10);
    setRenderHints(QPainter::Antialiasing | QPainter::SmoothPixmapTransform);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setBackgroundBrush(QColor(48, 48, 48));
    setMouseTracking(true);
    setMinimumSize(160, 160);
    connect(horizontalScrollBar(), &QScrollBar::valueChanged, this, &CanvasView::viewChanged);
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &CanvasView::viewChanged);
}

void CanvasView::setBackground(const QImage& image)
{
    const bool newSize = background_->pixmap().size() != image.size();
    background_->setPixmap(QPixmap::fromImage(image));
    scene()->setSceneRect(QRectF(QPointF(0, 0), QSizeF(image.size())));
    if (newSize || fitted_)
        fitToWindow();
}

void CanvasView::setTool(GuideTool* tool) { tool_ = tool; }
GuideTool* CanvasView::tool() const { return tool_; }

void CanvasView::fitToWindow()
{
    if (sceneRect().isEmpty())
        return;
    fitInView(sceneRect(), Qt::KeepAspectRatio);
    fitted_ = true;
    Q_EMIT viewChanged();
}

double CanvasView::zoom() const { return transform().m11(); }

void CanvasView::link(CanvasView* a, CanvasView* b)
{
    connect(a, &CanvasView::viewChanged, b, [a, b] { b->follow(a); });
    connect(b, &CanvasView::viewChanged, a, [a, b] { a->follow(b); });
}

void CanvasView::follow(CanvasView* other)
{
    if (syncing_ || other->syncing_)
        return;
    syncing_ = true;
    if (other->fitted_) { // each view fits itself: they may differ in size
        fitToWindow();
        syncing_ = false;
        return;
    }
    setTransform(other->transform());
    fitted_ = false;
    // Centre on the same scene point rather than copying scroll values: the views may differ in size.
    centerOn(other->mapToScene(other->viewport()->rect().center()));
    syncing_ = false;
}

void CanvasView::wheelEvent(QWheelEvent* event)
{
    const double steps = event->angleDelta().y() / 120.0;
    const double factor = std::pow(1.25, steps);
    const double z = zoom() * factor;
    if (z < 0.05 || z > 64)
        return;
    scale(factor, factor);
    fitted_ = false;
    Q_EMIT viewChanged();
}

void CanvasView::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && spaceDown_)) {
        panning_ = true;
        panStart_ = event->position().toPoint();
        setCursor(Qt::ClosedHandCursor);
        return;
    }
    if (tool_ && event->button() == Qt::LeftButton && tool_->press(mapToScene(event->position().toPoint()), event->modifiers(), this))
        return;
    QGraphicsView::mousePressEvent(event);
}

void CanvasView::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF scenePos = mapToScene(event->position().toPoint());
    Q_EMIT hovered(scenePos);
    if (panning_) {
        const QPoint d = event->position().toPoint() - panStart_;
        panStart_ = event->position().toPoint();
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
        fitted_ = false;
        return;
    }
    if (tool_ && tool_->move(scenePos, event->buttons(), this))
        return;
    QGraphicsView::mouseMoveEvent(event);
}

void CanvasView::mouseReleaseEvent(QMouseEvent* event)
{
    if (panning_ && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
        panning_ = false;
        unsetCursor();
        return;
    }
    if (tool_ && event->button() == Qt::LeftButton && tool_->release(mapToScene(event->position().toPoint()), this))
        return;
    QGraphicsView::mouseReleaseEvent(event);
}

void CanvasView::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (tool_ && event->button() == Qt::LeftButton && tool_->doubleClick(mapToScene(event->position().toPoint()), this))
        return;
    QGraphicsView::mouseDoubleClickEvent(event);
}

void CanvasView::keyPressEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        spaceDown_ = true;
        setCursor(Qt::OpenHandCursor);
        return;
    }
    QGraphicsView::keyPressEvent(event);
}

void CanvasView::keyReleaseEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        spaceDown_ = false;
        unsetCursor();
        return;
    }
    QGraphicsView::keyReleaseEvent(event);
}

void CanvasView::resizeEvent(QResizeEvent* event)
{
    QGraphicsView::resizeEvent(event);
    if (fitted_)
        fitToWindow();
}

// --- CompareItem ------------------------------------------------------------------------------

CompareItem::CompareItem() = default;

void CompareItem::setImages(const QImage& source, const QImage& result)
{
    prepareGeometryChange();
    source_ = source;
    result_ = result;
    size_ = QSizeF(source.size());
    update();
}

void CompareItem::setMode(Mode mode)
{
    mode_ = mode;
    update();
}

void CompareItem::setAmount(double t)
{
    amount_ = std::clamp(t, 0.0, 1.0);
    update();
}

QRectF CompareItem::boundingRect() const { return QRectF(QPointF(0, 0), size_); }

void CompareItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*)
{
    const QRectF r = boundingRect();
    if (r.isEmpty())
        return;
    p->setRenderHint(QPainter::SmoothPixmapTransform);
    if (result_.isNull()) {
        p->drawImage(r, source_);
        return;
    }
    switch (mode_) {
    case ResultOnly: p->drawImage(r, result_); break;
    case Wipe: {
        const double x = r.width() * amount_;
        p->drawImage(r, source_);
        p->save();
        p->setClipRect(QRectF(x, 0, r.width() - x, r.height()));
        p->drawImage(r, result_);
        p->restore();
        p->setPen(QPen(Qt::white, 0));
        p->drawLine(QPointF(x, 0), QPointF(x, r.height()));
        break;
    }
    case Overlay:
        p->drawImage(r, source_);
        p->setOpacity(amount_);
        p->drawImage(r, result_);
        p->setOpacity(1);
        break;
    }
}

} // namespace bft::studio
