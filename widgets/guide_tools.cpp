#include "guide_tools.h"

#include "canvas.h"
#include "colormap.h"
#include "guide_commands.h"

#include <QGraphicsScene>
#include <QPainter>
#include <QUndoStack>

#include <cmath>

namespace bft::studio {

namespace {

// Handles stay the same size on screen whatever the zoom.
double screenToScene(CanvasView* view) { return view && view->zoom() > 0 ? 1.0 / view->zoom() : 1.0; }

} // namespace

// --- pose -------------------------------------------------------------------------------------

class PoseTool::Item : public QGraphicsItem {
public:
    explicit Item(PoseTool* tool) : tool_(tool) { setZValue(10); }
    void geometryChanged() { prepareGeometryChange(); }
    QRectF boundingRect() const override
    {
        const QImage& s = tool_->doc_->source();
        return QRectF(-50, -50, s.width() + 100, s.height() + 100);
    }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        const live::Skeleton& sk = tool_->doc_->skeleton();
        const double px = 1.0 / std::max(1e-6, p->worldTransform().m11()); // one screen pixel in scene units
        p->setRenderHint(QPainter::Antialiasing);
        for (const live::Limb& l : live::limbs()) {
            const live::Keypoint &a = sk[l.from], &b = sk[l.to];
            if (!a.present || !b.present)
                continue;
            p->setPen(QPen(QColor(l.r, l.g, l.b, 220), 4 * px, Qt::SolidLine, Qt::RoundCap));
            p->drawLine(QPointF(a.x, a.y), QPointF(b.x, b.y));
        }
        for (int k = 0; k < live::kKeypoints; ++k) {
            const live::Keypoint& kp = sk[k];
            const bool sel = k == tool_->selected_;
            const double r = (sel ? 7 : 5) * px;
            if (kp.present) {
                p->setPen(QPen(sel ? Qt::yellow : Qt::black, (sel ? 2.5 : 1.5) * px));
                p->setBrush(Qt::white);
            } else {
                // Hidden keypoints stay where they were, hollow and dashed, so they can be restored.
                p->setPen(QPen(sel ? Qt::yellow : QColor(200, 200, 200), 1.5 * px, Qt::DashLine));
                p->setBrush(Qt::NoBrush);
            }
            p->drawEllipse(QPointF(kp.x, kp.y), r, r);
        }
    }

private:
    PoseTool* tool_;
};

PoseTool::PoseTool(Document* doc, QObject* parent) : GuideTool(doc, parent)
{
    item_ = new Item(this);
    connect(doc, &Document::guideChanged, this, [this] { item_->update(); });
    connect(doc, &Document::sourceChanged, this, [this] {
        item_->geometryChanged();
        setSelected(-1);
    });
}

PoseTool::~PoseTool() { detach(); delete item_; }

void PoseTool::attach(CanvasView* view)
{
    detach();
    view->scene()->addItem(item_);
}

void PoseTool::detach()
{
    if (item_->scene())
        item_->scene()->removeItem(item_);
}

void PoseTool::setSelected(int k)
{
    if (k == selected_)
        return;
    selected_ = k;
    item_->update();
    Q_EMIT selectionChanged(k);
}

int PoseTool::keypointAt(QPointF pos, double sceneUnitsPerPixel) const
{
    const double reach = 10 * sceneUnitsPerPixel;
    int best = -1;
    double bestD = reach * reach;
    const live::Skeleton& sk = doc_->skeleton();
    for (int k = 0; k < live::kKeypoints; ++k) {
        const double dx = sk[k].x - pos.x(), dy = sk[k].y - pos.y();
        // Present keypoints win over hidden ones at the same spot.
        const double d = dx * dx + dy * dy + (sk[k].present ? 0 : 1e-3);
        if (d <= bestD) {
            bestD = d;
            best = k;
        }
    }
    return best;
}

bool PoseTool::press(QPointF pos, Qt::KeyboardModifiers, CanvasView* view)
{
    const int k = keypointAt(pos, screenToScene(view));
    setSelected(k);
    if (k < 0)
        return false;
    const live::Keypoint& kp = doc_->skeleton()[k];
    grabOffset_ = QPointF(kp.x, kp.y) - pos;
    if (!kp.present)
        return true; // hidden: select only (double-click restores)
    dragId_ = nextDragId();
    Q_EMIT dragStarted();
    return true;
}

bool PoseTool::move(QPointF pos, Qt::MouseButtons buttons, CanvasView*)
{
    if (dragId_ < 0 || !(buttons & Qt::LeftButton) || selected_ < 0)
        return false;
    const QImage& s = doc_->source();
    const QPointF p = pos + grabOffset_;
    live::Keypoint kp = doc_->skeleton()[selected_];
    kp.x = static_cast<float>(std::clamp(p.x(), 0.0, s.width() - 1.0));
    kp.y = static_cast<float>(std::clamp(p.y(), 0.0, s.height() - 1.0));
    doc_->undoStack()->push(new MoveKeypointCommand(doc_, selected_, kp, dragId_));
    return true;
}

bool PoseTool::release(QPointF, CanvasView*)
{
    if (dragId_ < 0)
        return false;
    dragId_ = -1;
    Q_EMIT dragFinished();
    return true;
}

bool PoseTool::doubleClick(QPointF pos, CanvasView* view)
{
    const int k = keypointAt(pos, screenToScene(view));
    if (k < 0)
        return false;
    live::Skeleton sk = doc_->skeleton();
    sk[k].present = !sk[k].present;
    const QString name = QString::fromLatin1(live::keypoint_name(k));
    doc_->undoStack()->push(new SetSkeletonCommand(doc_, sk, sk[k].present ? tr("Restore %1").arg(name) : tr("Hide %1").arg(name)));
    return true;
}

// --- depth ------------------------------------------------------------------------------------

class DepthTool::Item : public QGraphicsItem {
public:
    explicit Item(DepthTool* tool) : tool_(tool) { setZValue(5); setOpacity(0.65); }
    void geometryChanged() { prepareGeometryChange(); }
    QRectF boundingRect() const override { return QRectF(QPointF(0, 0), QSizeF(tool_->doc_->source().size())); }
    void refresh()
    {
        const live::Raster& g = tool_->doc_->lowDepth();
        const live::DepthRange r = tool_->doc_->depthDisplayRange();
        image_ = g.empty() ? QImage() : colorize(g.values.data(), g.width, g.height, r.near_m, r.far_m, true);
        update();
    }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        if (image_.isNull())
            return;
        // Nearest-neighbour: each reading is a block, as the network sees the grid before upsampling.
        p->setRenderHint(QPainter::SmoothPixmapTransform, false);
        p->drawImage(boundingRect(), image_);
    }

private:
    DepthTool* tool_;
    QImage image_;
};

DepthTool::DepthTool(Document* doc, QObject* parent) : GuideTool(doc, parent)
{
    item_ = new Item(this);
    connect(doc, &Document::guideChanged, this, &DepthTool::refresh);
    connect(doc, &Document::sourceChanged, this, [this] {
        item_->geometryChanged();
        refresh();
    });
}

DepthTool::~DepthTool() { detach(); delete item_; }

void DepthTool::attach(CanvasView* view)
{
    detach();
    view->scene()->addItem(item_);
    refresh();
}

void DepthTool::detach()
{
    if (item_->scene())
        item_->scene()->removeItem(item_);
}

void DepthTool::setOpacity(double o) { item_->setOpacity(o); }
void DepthTool::refresh() { item_->refresh(); }

void DepthTool::paintAt(QPointF pos)
{
    const QImage& s = doc_->source();
    if (stroke_.empty() || s.isNull())
        return;
    const double gx = pos.x() / s.width() * stroke_.width, gy = pos.y() / s.height() * stroke_.height;
    const int cx = static_cast<int>(std::floor(gx)), cy = static_cast<int>(std::floor(gy));
    for (int y = cy - radius_; y <= cy + radius_; ++y)
        for (int x = cx - radius_; x <= cx + radius_; ++x) {
            if (x < 0 || y < 0 || x >= stroke_.width || y >= stroke_.height)
                continue;
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > radius_ * radius_ + radius_)
                continue;
            stroke_.values[static_cast<size_t>(y) * stroke_.width + x] = erase_ ? 0.0f : static_cast<float>(value_);
        }
}

bool DepthTool::press(QPointF pos, Qt::KeyboardModifiers mods, CanvasView*)
{
    const live::Raster& g = doc_->lowDepth();
    const QImage& s = doc_->source();
    if (g.empty() || s.isNull())
        return false;
    if (mods & Qt::ControlModifier) { // value picker
        const int x = std::clamp(static_cast<int>(pos.x() / s.width() * g.width), 0, g.width - 1);
        const int y = std::clamp(static_cast<int>(pos.y() / s.height() * g.height), 0, g.height - 1);
        const float v = g.at(0, y, x);
        if (v > 0) {
            value_ = v;
            Q_EMIT valuePicked(v);
        }
        return true;
    }
    stroke_ = g;
    dragId_ = nextDragId();
    Q_EMIT dragStarted();
    paintAt(pos);
    doc_->undoStack()->push(new SetLowDepthCommand(doc_, stroke_, doc_->depthFactor(), erase_ ? tr("Erase depth") : tr("Paint depth"), dragId_));
    return true;
}

bool DepthTool::move(QPointF pos, Qt::MouseButtons buttons, CanvasView*)
{
    if (dragId_ < 0 || !(buttons & Qt::LeftButton))
        return false;
    paintAt(pos);
    doc_->undoStack()->push(new SetLowDepthCommand(doc_, stroke_, doc_->depthFactor(), erase_ ? tr("Erase depth") : tr("Paint depth"), dragId_));
    return true;
}

bool DepthTool::release(QPointF, CanvasView*)
{
    if (dragId_ < 0)
        return false;
    dragId_ = -1;
    stroke_ = {};
    Q_EMIT dragFinished();
    return true;
}

// --- texture ----------------------------------------------------------------------------------

class TextureTool::Item : public QGraphicsItem {
public:
    explicit Item(TextureTool* tool) : tool_(tool) { setZValue(5); }
    void geometryChanged() { prepareGeometryChange(); }
    QRectF boundingRect() const override
    {
        const QImage& s = tool_->doc_->source();
        return QRectF(-2000, -2000, s.width() + 4000, s.height() + 4000);
    }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        const double px = 1.0 / std::max(1e-6, p->worldTransform().m11());
        const auto& patches = tool_->doc_->patches();
        const auto& textures = tool_->doc_->textures();
        for (int i = 0; i < patches.size(); ++i) {
            const PatchPlacement& pp = patches[i];
            if (pp.texture >= 0 && pp.texture < textures.size())
                p->drawImage(pp.rect, textures[pp.texture]);
            const bool sel = i == tool_->selected_;
            p->setPen(QPen(sel ? QColor(255, 200, 0) : QColor(255, 255, 255, 180), (sel ? 2 : 1) * px, sel ? Qt::SolidLine : Qt::DashLine));
            p->setBrush(Qt::NoBrush);
            p->drawRect(pp.rect);
            if (sel) {
                const double h = 8 * px;
                p->setBrush(QColor(255, 200, 0));
                p->drawRect(QRectF(pp.rect.bottomRight() - QPointF(h, h), QSizeF(h, h)));
            }
        }
    }

private:
    TextureTool* tool_;
};

TextureTool::TextureTool(Document* doc, QObject* parent) : GuideTool(doc, parent)
{
    item_ = new Item(this);
    connect(doc, &Document::guideChanged, this, &TextureTool::refresh);
    connect(doc, &Document::sourceChanged, this, [this] {
        item_->geometryChanged();
        setSelected(-1);
    });
}

TextureTool::~TextureTool() { detach(); delete item_; }

void TextureTool::attach(CanvasView* view)
{
    detach();
    view->scene()->addItem(item_);
}

void TextureTool::detach()
{
    if (item_->scene())
        item_->scene()->removeItem(item_);
}

void TextureTool::setSelected(int index)
{
    if (index >= doc_->patches().size())
        index = -1;
    if (index == selected_)
        return;
    selected_ = index;
    item_->update();
    Q_EMIT selectionChanged(index);
}

void TextureTool::refresh()
{
    if (selected_ >= doc_->patches().size())
        setSelected(-1);
    item_->update();
}

bool TextureTool::press(QPointF pos, Qt::KeyboardModifiers, CanvasView* view)
{
    const auto& patches = doc_->patches();
    const double handle = 10 * screenToScene(view);
    // The selected patch's resize handle first, then patches from the top (last drawn) down.
    if (selected_ >= 0 && selected_ < patches.size()) {
        const QPointF corner = patches[selected_].rect.bottomRight();
        if (std::abs(pos.x() - corner.x()) <= handle && std::abs(pos.y() - corner.y()) <= handle) {
            resizing_ = true;
            grab_ = pos;
            startRect_ = patches[selected_].rect;
            dragId_ = nextDragId();
            Q_EMIT dragStarted();
            return true;
        }
    }
    for (int i = static_cast<int>(patches.size()) - 1; i >= 0; --i)
        if (patches[i].rect.contains(pos)) {
            setSelected(i);
            resizing_ = false;
            grab_ = pos;
            startRect_ = patches[i].rect;
            dragId_ = nextDragId();
            Q_EMIT dragStarted();
            return true;
        }
    setSelected(-1);
    return false;
}

bool TextureTool::move(QPointF pos, Qt::MouseButtons buttons, CanvasView*)
{
    if (dragId_ < 0 || !(buttons & Qt::LeftButton) || selected_ < 0)
        return false;
    QList<PatchPlacement> patches = doc_->patches();
    const QPointF d = pos - grab_;
    QRectF r = startRect_;
    if (resizing_) {
        r.setWidth(std::max(4.0, startRect_.width() + d.x()));
        r.setHeight(std::max(4.0, startRect_.height() + d.y()));
    } else {
        r.translate(d);
    }
    patches[selected_].rect = r;
    doc_->undoStack()->push(new SetPatchesCommand(doc_, patches, resizing_ ? tr("Resize patch") : tr("Move patch"), dragId_));
    return true;
}

bool TextureTool::release(QPointF, CanvasView*)
{
    if (dragId_ < 0)
        return false;
    dragId_ = -1;
    Q_EMIT dragFinished();
    return true;
}

} // namespace bft::studio
