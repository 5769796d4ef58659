#include "guide_commands.h"

#include <QCoreApplication>

namespace bft::studio {

int nextDragId()
{
    static int id = 0;
    return ++id;
}

MoveKeypointCommand::MoveKeypointCommand(Document* doc, int keypoint, const live::Keypoint& to, int dragId)
    : doc_(doc), keypoint_(keypoint), dragId_(dragId), from_(doc->skeleton()[keypoint]), to_(to)
{
    setText(QCoreApplication::translate("bft::studio::Commands", "Move %1").arg(QString::fromLatin1(live::keypoint_name(keypoint))));
}

void MoveKeypointCommand::undo() { doc_->setKeypoint(keypoint_, from_); }
void MoveKeypointCommand::redo() { doc_->setKeypoint(keypoint_, to_); }

bool MoveKeypointCommand::mergeWith(const QUndoCommand* other)
{
    const auto* o = static_cast<const MoveKeypointCommand*>(other);
    if (o->keypoint_ != keypoint_ || o->dragId_ != dragId_)
        return false;
    to_ = o->to_;
    return true;
}

SetSkeletonCommand::SetSkeletonCommand(Document* doc, const live::Skeleton& to, const QString& text)
    : doc_(doc), from_(doc->skeleton()), to_(to)
{
    setText(text);
}

void SetSkeletonCommand::undo() { doc_->setSkeleton(from_); }
void SetSkeletonCommand::redo() { doc_->setSkeleton(to_); }

SetLowDepthCommand::SetLowDepthCommand(Document* doc, const live::Raster& to, int factor, const QString& text, int dragId)
    : doc_(doc), from_(doc->lowDepth()), to_(to), fromFactor_(doc->depthFactor()), toFactor_(factor), dragId_(dragId)
{
    setText(text);
}

void SetLowDepthCommand::undo()
{
    doc_->setDepthFactor(fromFactor_);
    doc_->setLowDepth(from_);
}

void SetLowDepthCommand::redo()
{
    doc_->setDepthFactor(toFactor_);
    doc_->setLowDepth(to_);
}

bool SetLowDepthCommand::mergeWith(const QUndoCommand* other)
{
    const auto* o = static_cast<const SetLowDepthCommand*>(other);
    if (o->dragId_ != dragId_)
        return false;
    to_ = o->to_;
    toFactor_ = o->toFactor_;
    return true;
}

SetPatchesCommand::SetPatchesCommand(Document* doc, const QList<PatchPlacement>& to, const QString& text, int dragId)
    : doc_(doc), from_(doc->patches()), to_(to), dragId_(dragId)
{
    setText(text);
}

void SetPatchesCommand::undo() { doc_->setPatches(from_); }
void SetPatchesCommand::redo() { doc_->setPatches(to_); }

bool SetPatchesCommand::mergeWith(const QUndoCommand* other)
{
    const auto* o = static_cast<const SetPatchesCommand*>(other);
    if (o->dragId_ != dragId_)
        return false;
    to_ = o->to_;
    return true;
}

SetSketchCommand::SetSketchCommand(Document* doc, const live::Raster& to, const QString& text)
    : doc_(doc), from_(doc->sketch()), to_(to)
{
    setText(text);
}

void SetSketchCommand::undo() { doc_->setSketch(from_); }
void SetSketchCommand::redo() { doc_->setSketch(to_); }

} // namespace bft::studio
