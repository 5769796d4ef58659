// The editor's document: the source image, the guide of the current task (pose skeleton,
// low-resolution depth, texture patches), the chosen model and settings, and the undo stack every
// guide edit goes through. Views listen to its typed change signals; edits go through commands
// (guide_commands.h), never through the setters directly, so that undo sees them.
#pragma once

#include "live.h"

#include <QHash>
#include <QImage>
#include <QPair>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QRectF>
#include <QString>

class QUndoStack;

namespace bft::studio {

using live::Task;

// One texture patch placed on the sketch: which texture, and where (source-image pixels).
struct PatchPlacement {
    int texture = 0;
    QRectF rect;
    bool operator==(const PatchPlacement& o) const { return texture == o.texture && rect == o.rect; }
};

struct Settings {
    int fullSize = 256;    // long side the network runs at when the guide rests
    int previewSize = 128; // long side during a drag
    bool previewBf16 = true;
    QString device = QStringLiteral("cpu");
    int threads = 0;       // 0: all cores
    bool lowMemory = false; // direct convolutions only (live.h, Request::low_memory)
};

class Document : public QObject {
    Q_OBJECT
public:
    explicit Document(QObject* parent = nullptr);
    ~Document() override;

    QUndoStack* undoStack() const { return undo_; }

    Task task() const { return task_; }
    void setTask(Task task);

    // The source: the person (pose), the RGB guide (depth), or the photo a sketch comes from (texture).
    const QImage& source() const { return source_; }
    QString sourcePath() const { return sourcePath_; }
    // Replaces the source and resets the guide to fit it (not undoable: a new document, in effect).
    void setSource(const QImage& image, const QString& path);

    // Pose: keypoints in source pixels.
    const live::Skeleton& skeleton() const { return skeleton_; }
    void setSkeleton(const live::Skeleton& s);
    void setKeypoint(int k, const live::Keypoint& p);

    // Depth: the imported map (metres, source size; may be empty), the factor, and the
    // low-resolution grid the network's input is made from (what the brush paints).
    const live::Raster& depthMap() const { return depthMap_; }
    int depthFactor() const { return depthFactor_; }
    const live::Raster& lowDepth() const { return lowDepth_; }
    live::DepthRange depthRange() const { return depthRange_; }
    // What pictures of depth span: the readings' range rounded out to half metres (the network's
    // 0-10 m would leave a room in two shades), or the network's range without readings.
    live::DepthRange depthDisplayRange() const;
    void setDepthMap(const live::Raster& metres, const QString& path);
    void setDepthFactor(int factor);
    void setLowDepth(const live::Raster& grid);
    // The grid that `factor` makes of the imported map at the full working size.
    live::Raster lowDepthFor(int factor) const;

    // Texture: the sketch (1 x H x W, L', source size), textures, and placed patches.
    const live::Raster& sketch() const { return sketch_; }
    QImage sketchImage() const; // cached per sketch
    quint64 sketchGeneration() const { return sketchGeneration_; }
    void setSketch(const live::Raster& sketch);
    const QList<QImage>& textures() const { return textures_; }
    int addTexture(const QImage& texture); // not undoable by itself; placing a patch is
    const QList<PatchPlacement>& patches() const { return patches_; }
    void setPatches(const QList<PatchPlacement>& patches);

    QString modelPath() const { return modelPath_; }
    void setModelPath(const QString& path);
    const Settings& settings() const { return settings_; }
    void setSettings(const Settings& s);

    // The network's working size for a long side of `longSide` (aspect kept, at least 1).
    QSize workingSize(int longSide) const;
    // Everything the worker needs for one forward at `longSide`; cheap (no network work).
    live::Request makeRequest(int longSide, bool preview) const;
    // A hash of what makeRequest depends on, to skip requests that would change nothing.
    quint64 contentKey(int longSide, bool preview) const;

    // Session files (.bftproj, JSON; the images beside it are referenced, sketches and painted
    // depth are embedded). Throws bft::Error naming the file on problems.
    QJsonObject toJson() const;
    void fromJson(const QJsonObject& json, const QString& baseDir);
    void save(const QString& path) const; // atomic
    void load(const QString& path);

    bool isModified() const;
    void setClean();

Q_SIGNALS:
    void taskChanged();
    void sourceChanged();
    void guideChanged();
    void modelPathChanged();
    void settingsChanged();

private:
    void resetGuide();
    // The source at the working size: scaling a large photo takes tens of milliseconds, too long
    // to repeat on the GUI thread for every mouse move of a drag.
    const live::Rgb8& scaledSource(QSize size) const;
    const live::Raster& scaledSketch(QSize size) const;

    QUndoStack* undo_;
    Task task_ = Task::Pose;
    QImage source_;
    QString sourcePath_;
    live::Skeleton skeleton_{};
    live::Raster depthMap_;
    QString depthPath_;
    int depthFactor_ = 8;
    live::Raster lowDepth_;
    live::DepthRange depthRange_;
    live::Raster sketch_;
    QList<QImage> textures_;
    QList<PatchPlacement> patches_;
    QString modelPath_;
    Settings settings_;
    mutable live::Rgb8 scaledSource_;
    mutable qint64 scaledSourceKey_ = 0;
    mutable live::Raster scaledSketch_;
    quint64 sketchGeneration_ = 1; // moves with every new sketch
    mutable quint64 scaledSketchGeneration_ = 0;
    mutable QImage sketchImage_;
    mutable quint64 sketchImageGeneration_ = 0;
    mutable QHash<QPair<qint64, QSize>, live::Rgb8> scaledTextures_; // texture cacheKey + size
};

// QImage (any format) <-> the plain RGB8 of the model library.
live::Rgb8 toRgb8(const QImage& image);
QImage toQImage(const live::Rgb8& rgb);

} // namespace bft::studio
