// One small QUndoCommand per guide edit. Drags push a command per mouse move with the same drag
// id; mergeWith folds them into one, so one drag is one undo step.
#pragma once

#include "document.h"

#include <QUndoCommand>

namespace bft::studio {

enum CommandId { MoveKeypointId = 1, PaintDepthId, EditPatchesId };

// A new drag id for each press; moves of one drag merge.
int nextDragId();

class MoveKeypointCommand : public QUndoCommand {
public:
    MoveKeypointCommand(Document* doc, int keypoint, const live::Keypoint& to, int dragId);
    void undo() override;
    void redo() override;
    int id() const override { return MoveKeypointId; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    Document* doc_;
    int keypoint_, dragId_;
    live::Keypoint from_, to_;
};

// Whole-skeleton edits: hide/restore a keypoint, mirror, reset, import.
class SetSkeletonCommand : public QUndoCommand {
public:
    SetSkeletonCommand(Document* doc, const live::Skeleton& to, const QString& text);
    void undo() override;
    void redo() override;

private:
    Document* doc_;
    live::Skeleton from_, to_;
};

// A brush stroke (merged by drag id), a factor change or an import: the low-resolution grid before
// and after.
class SetLowDepthCommand : public QUndoCommand {
public:
    SetLowDepthCommand(Document* doc, const live::Raster& to, int factor, const QString& text, int dragId = -1);
    void undo() override;
    void redo() override;
    int id() const override { return dragId_ < 0 ? -1 : PaintDepthId; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    Document* doc_;
    live::Raster from_, to_;
    int fromFactor_, toFactor_, dragId_;
};

// Placing, moving, resizing or removing patches (drags merged by drag id).
class SetPatchesCommand : public QUndoCommand {
public:
    SetPatchesCommand(Document* doc, const QList<PatchPlacement>& to, const QString& text, int dragId = -1);
    void undo() override;
    void redo() override;
    int id() const override { return dragId_ < 0 ? -1 : EditPatchesId; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    Document* doc_;
    QList<PatchPlacement> from_, to_;
    int dragId_;
};

// A new sketch (automatic from the image, or imported).
class SetSketchCommand : public QUndoCommand {
public:
    SetSketchCommand(Document* doc, const live::Raster& to, const QString& text);
    void undo() override;
    void redo() override;

private:
    Document* doc_;
    live::Raster from_, to_;
};

} // namespace bft::studio
