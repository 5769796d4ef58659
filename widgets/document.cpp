#include "document.h"

#include "errors.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUndoStack>

#include <zlib.h>

#include <cmath>
#include <limits>
#include <cstring>

namespace bft::studio {

live::Rgb8 toRgb8(const QImage& image)
{
    live::Rgb8 out;
    if (image.isNull())
        return out;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    out.width = rgb.width();
    out.height = rgb.height();
    out.bytes.resize(static_cast<size_t>(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y)
        std::memcpy(out.bytes.data() + static_cast<size_t>(y) * out.width * 3, rgb.constScanLine(y), static_cast<size_t>(out.width) * 3);
    return out;
}

QImage toQImage(const live::Rgb8& rgb)
{
    if (rgb.empty())
        return {};
    QImage out(rgb.width, rgb.height, QImage::Format_RGB888);
    for (int y = 0; y < rgb.height; ++y)
        std::memcpy(out.scanLine(y), rgb.bytes.data() + static_cast<size_t>(y) * rgb.width * 3, static_cast<size_t>(rgb.width) * 3);
    return out;
}

Document::Document(QObject* parent) : QObject(parent), undo_(new QUndoStack(this)) {}
Document::~Document() = default;

void Document::setTask(Task task)
{
    if (task == task_)
        return;
    task_ = task;
    undo_->clear();
    resetGuide();
    Q_EMIT taskChanged();
    Q_EMIT guideChanged();
}

void Document::setSource(const QImage& image, const QString& path)
{
    source_ = image.convertToFormat(QImage::Format_RGB888);
    sourcePath_ = path;
    undo_->clear();
    resetGuide();
    Q_EMIT sourceChanged();
    Q_EMIT guideChanged();
}

void Document::resetGuide()
{
    const int w = source_.width(), h = source_.height();
    skeleton_ = w > 0 ? live::default_skeleton(w, h) : live::Skeleton{};
    depthMap_ = {};
    depthPath_.clear();
    lowDepth_ = {};
    patches_.clear();
    textures_.clear();
    sketch_ = {};
    ++sketchGeneration_;
    if (w > 0 && task_ == Task::Texture)
        sketch_ = live::sketch_from(toRgb8(source_));
    if (w > 0 && task_ == Task::Depth) {
        // An empty grid (no readings): the user imports a map or paints samples.
        const QSize full = workingSize(settings_.fullSize);
        lowDepth_.channels = 1;
        lowDepth_.width = std::max(1, full.width() / depthFactor_);
        lowDepth_.height = std::max(1, full.height() / depthFactor_);
        lowDepth_.values.assign(static_cast<size_t>(lowDepth_.width) * lowDepth_.height, 0.0f);
    }
}

void Document::setSkeleton(const live::Skeleton& s)
{
    skeleton_ = s;
    Q_EMIT guideChanged();
}

void Document::setKeypoint(int k, const live::Keypoint& p)
{
    if (k < 0 || k >= live::kKeypoints)
        return;
    skeleton_[k] = p;
    Q_EMIT guideChanged();
}

void Document::setDepthMap(const live::Raster& metres, const QString& path)
{
    depthMap_ = metres;
    depthPath_ = path;
    lowDepth_ = lowDepthFor(depthFactor_);
    Q_EMIT guideChanged();
}

void Document::setDepthFactor(int factor)
{
    depthFactor_ = std::max(1, factor);
    Q_EMIT guideChanged();
}

void Document::setLowDepth(const live::Raster& grid)
{
    lowDepth_ = grid;
    Q_EMIT guideChanged();
}

live::Raster Document::lowDepthFor(int factor) const
{
    const QSize full = workingSize(settings_.fullSize);
    if (depthMap_.empty()) {
        live::Raster empty;
        empty.channels = 1;
        empty.width = std::max(1, full.width() / factor);
        empty.height = std::max(1, full.height() / factor);
        empty.values.assign(static_cast<size_t>(empty.width) * empty.height, 0.0f);
        return empty;
    }
    // The factor is relative to the size the network runs at, as in training.
    const live::Raster atFull = live::resize(depthMap_, full.width(), full.height());
    return live::area_downsample(atFull, factor);
}

live::DepthRange Document::depthDisplayRange() const
{
    float lo = std::numeric_limits<float>::max(), hi = 0;
    for (float v : lowDepth_.values)
        if (v > 0)
            lo = std::min(lo, v), hi = std::max(hi, v);
    if (hi <= 0)
        return depthRange_;
    lo = std::floor(lo * 2) / 2;
    hi = std::max(lo + 0.5f, std::ceil(hi * 2) / 2);
    return {std::max(depthRange_.near_m, lo), std::min(depthRange_.far_m, hi)};
}

QImage Document::sketchImage() const
{
    if (sketch_.empty())
        return {};
    if (sketchImageGeneration_ == sketchGeneration_)
        return sketchImage_;
    QImage img(sketch_.width, sketch_.height, QImage::Format_Grayscale8);
    for (int y = 0; y < sketch_.height; ++y) {
        uchar* line = img.scanLine(y);
        for (int x = 0; x < sketch_.width; ++x)
            line[x] = static_cast<uchar>(std::clamp(std::lround((sketch_.at(0, y, x) + 1.0f) * 127.5f), 0L, 255L));
    }
    sketchImage_ = img;
    sketchImageGeneration_ = sketchGeneration_;
    return img;
}

void Document::setSketch(const live::Raster& sketch)
{
    sketch_ = sketch;
    ++sketchGeneration_;
    Q_EMIT guideChanged();
}

int Document::addTexture(const QImage& texture)
{
    textures_.append(texture.convertToFormat(QImage::Format_RGB888));
    return static_cast<int>(textures_.size()) - 1;
}

void Document::setPatches(const QList<PatchPlacement>& patches)
{
    patches_ = patches;
    Q_EMIT guideChanged();
}

void Document::setModelPath(const QString& path)
{
    if (path == modelPath_)
        return;
    modelPath_ = path;
    Q_EMIT modelPathChanged();
}

void Document::setSettings(const Settings& s)
{
    settings_ = s;
    Q_EMIT settingsChanged();
}

QSize Document::workingSize(int longSide) const
{
    const int w = source_.width(), h = source_.height();
    if (w <= 0 || h <= 0)
        return {};
    const double scale = static_cast<double>(longSide) / std::max(w, h);
    return {std::max(1, static_cast<int>(std::lround(w * scale))), std::max(1, static_cast<int>(std::lround(h * scale)))};
}

live::Request Document::makeRequest(int longSide, bool preview) const
{
    live::Request rq;
    rq.task = task_;
    const QSize size = workingSize(longSide);
    rq.width = size.width();
    rq.height = size.height();
    rq.bf16 = preview && settings_.previewBf16;
    rq.low_memory = settings_.lowMemory;
    if (size.isEmpty())
        return rq;
    const double sx = static_cast<double>(size.width()) / source_.width();
    const double sy = static_cast<double>(size.height()) / source_.height();
    switch (task_) {
    case Task::Pose:
        rq.source = scaledSource(size);
        for (int k = 0; k < live::kKeypoints; ++k) {
            // Keypoints are pixel centres: scale about the pixel grid, not the corner.
            const live::Keypoint& p = skeleton_[k];
            rq.skeleton[k] = {static_cast<float>((p.x + 0.5) * sx - 0.5), static_cast<float>((p.y + 0.5) * sy - 0.5), p.present};
        }
        break;
    case Task::Depth:
        rq.source = scaledSource(size);
        rq.low_depth = lowDepth_;
        rq.range = depthRange_;
        break;
    case Task::Texture:
        rq.sketch = scaledSketch(size);
        for (const PatchPlacement& p : patches_) {
            if (p.texture < 0 || p.texture >= textures_.size())
                continue;
            const QRect r(QPoint(static_cast<int>(std::lround(p.rect.x() * sx)), static_cast<int>(std::lround(p.rect.y() * sy))),
                          QSize(std::max(1, static_cast<int>(std::lround(p.rect.width() * sx))),
                                std::max(1, static_cast<int>(std::lround(p.rect.height() * sy)))));
            live::TexturePatch tp;
            // Scaled once per texture and size: a drag moves the patch far more often than it resizes it.
            const auto key = qMakePair(textures_[p.texture].cacheKey(), r.size());
            auto cached = scaledTextures_.find(key);
            if (cached == scaledTextures_.end()) {
                if (scaledTextures_.size() > 64)
                    scaledTextures_.clear();
                cached = scaledTextures_.insert(key, toRgb8(textures_[p.texture].scaled(r.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation)));
            }
            tp.texture = cached.value();
            tp.x = r.x();
            tp.y = r.y();
            rq.patches.push_back(std::move(tp));
        }
        break;
    }
    return rq;
}

const live::Rgb8& Document::scaledSource(QSize size) const
{
    if (scaledSourceKey_ != source_.cacheKey() || scaledSource_.width != size.width() || scaledSource_.height != size.height()) {
        scaledSource_ = toRgb8(source_.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
        scaledSourceKey_ = source_.cacheKey();
    }
    return scaledSource_;
}

const live::Raster& Document::scaledSketch(QSize size) const
{
    if (scaledSketchGeneration_ != sketchGeneration_ || scaledSketch_.width != size.width() || scaledSketch_.height != size.height()) {
        scaledSketch_ = live::resize(sketch_, size.width(), size.height());
        scaledSketchGeneration_ = sketchGeneration_;
    }
    return scaledSketch_;
}

quint64 Document::contentKey(int longSide, bool preview) const
{
    QCryptographicHash h(QCryptographicHash::Md5);
    auto add = [&](const void* p, size_t n) { h.addData(QByteArrayView(static_cast<const char*>(p), static_cast<qsizetype>(n))); };
    const int head[4] = {static_cast<int>(task_), longSide, preview && settings_.previewBf16 ? 1 : 0, 0};
    add(head, sizeof head);
    const qint64 key = source_.cacheKey();
    add(&key, sizeof key);
    switch (task_) {
    case Task::Pose: add(skeleton_.data(), sizeof(live::Keypoint) * skeleton_.size()); break;
    case Task::Depth: add(lowDepth_.values.data(), lowDepth_.values.size() * sizeof(float)); break;
    case Task::Texture:
        add(&sketchGeneration_, sizeof sketchGeneration_); // cheaper than hashing the sketch
        for (const PatchPlacement& p : patches_) {
            const qint64 tk = p.texture >= 0 && p.texture < textures_.size() ? textures_[p.texture].cacheKey() : 0;
            const double r[4] = {p.rect.x(), p.rect.y(), p.rect.width(), p.rect.height()};
            add(&tk, sizeof tk);
            add(r, sizeof r);
        }
        break;
    }
    quint64 out = 0;
    std::memcpy(&out, h.result().constData(), sizeof out);
    return out;
}

// --- session files ----------------------------------------------------------------------------

namespace {

QString imageToBase64(const QImage& image)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return QString::fromLatin1(bytes.toBase64());
}

QImage imageFromBase64(const QJsonValue& v)
{
    return QImage::fromData(QByteArray::fromBase64(v.toString().toLatin1()), "PNG");
}

QJsonObject rasterToJson(const live::Raster& r)
{
    QByteArray raw(reinterpret_cast<const char*>(r.values.data()), static_cast<qsizetype>(r.values.size() * sizeof(float)));
    return {{QStringLiteral("channels"), r.channels},
            {QStringLiteral("height"), r.height},
            {QStringLiteral("width"), r.width},
            {QStringLiteral("float32_zlib_base64"), QString::fromLatin1(qCompress(raw).toBase64())}};
}

live::Raster rasterFromJson(const QJsonValue& v)
{
    const QJsonObject o = v.toObject();
    live::Raster r;
    if (o.isEmpty())
        return r;
    r.channels = o.value(QStringLiteral("channels")).toInt();
    r.height = o.value(QStringLiteral("height")).toInt();
    r.width = o.value(QStringLiteral("width")).toInt();
    const auto damaged = [&] { return Error("an embedded map of " + std::to_string(r.width) + "x" + std::to_string(r.height) + " is damaged"); };
    // A map is at most 64 M values (256 MB): the editor's maps are image-sized.
    if (r.channels < 1 || r.channels > 4 || r.height < 1 || r.width < 1 || r.height > 16384 || r.width > 16384 ||
        static_cast<qint64>(r.channels) * r.height * r.width > (qint64(1) << 26))
        throw damaged();
    const qint64 n = static_cast<qint64>(r.channels) * r.height * r.width;
    // qCompress's format: a 4-byte size, then a zlib stream. Inflated here into exactly the size
    // the header gives, no more: qUncompress would follow a "zip bomb" to gigabytes.
    const QByteArray packed = QByteArray::fromBase64(o.value(QStringLiteral("float32_zlib_base64")).toString().toLatin1());
    if (packed.size() < 4)
        throw damaged();
    r.values.resize(static_cast<size_t>(n));
    z_stream z{};
    if (inflateInit(&z) != Z_OK)
        throw damaged();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.constData() + 4));
    z.avail_in = static_cast<uInt>(packed.size() - 4);
    z.next_out = reinterpret_cast<Bytef*>(r.values.data());
    z.avail_out = static_cast<uInt>(n * static_cast<qint64>(sizeof(float)));
    const int status = inflate(&z, Z_FINISH);
    const bool whole = status == Z_STREAM_END && z.avail_out == 0;
    inflateEnd(&z);
    if (!whole)
        throw damaged();
    for (float v : r.values)
        if (!std::isfinite(v))
            throw Error("an embedded map of " + std::to_string(r.width) + "x" + std::to_string(r.height) + " holds NaN or infinite values");
    return r;
}

} // namespace

QJsonObject Document::toJson() const
{
    QJsonObject j;
    j[QStringLiteral("format")] = QStringLiteral("bft-studio-project");
    j[QStringLiteral("version")] = 1;
    j[QStringLiteral("task")] = QString::fromLatin1(live::task_name(task_));
    j[QStringLiteral("source_path")] = sourcePath_;
    j[QStringLiteral("source_png")] = imageToBase64(source_);
    j[QStringLiteral("model")] = modelPath_;
    QJsonObject s;
    s[QStringLiteral("full_size")] = settings_.fullSize;
    s[QStringLiteral("preview_size")] = settings_.previewSize;
    s[QStringLiteral("preview_bf16")] = settings_.previewBf16;
    s[QStringLiteral("device")] = settings_.device;
    s[QStringLiteral("threads")] = settings_.threads;
    s[QStringLiteral("low_memory")] = settings_.lowMemory;
    j[QStringLiteral("settings")] = s;
    QJsonArray points;
    for (const live::Keypoint& p : skeleton_)
        points.append(QJsonArray{p.x, p.y, p.present ? 1 : 0});
    j[QStringLiteral("keypoints")] = points;
    j[QStringLiteral("depth_factor")] = depthFactor_;
    j[QStringLiteral("depth_path")] = depthPath_;
    if (!depthMap_.empty())
        j[QStringLiteral("depth_map")] = rasterToJson(depthMap_);
    if (!lowDepth_.empty())
        j[QStringLiteral("low_depth")] = rasterToJson(lowDepth_);
    if (!sketch_.empty())
        j[QStringLiteral("sketch")] = rasterToJson(sketch_);
    QJsonArray textures;
    for (const QImage& t : textures_)
        textures.append(imageToBase64(t));
    j[QStringLiteral("textures_png")] = textures;
    QJsonArray patches;
    for (const PatchPlacement& p : patches_)
        patches.append(QJsonArray{p.texture, p.rect.x(), p.rect.y(), p.rect.width(), p.rect.height()});
    j[QStringLiteral("patches")] = patches;
    return j;
}

void Document::fromJson(const QJsonObject& j, const QString& baseDir)
{
    if (j.value(QStringLiteral("format")).toString() != QStringLiteral("bft-studio-project"))
        throw Error("not a bFT Studio project (no \"format\": \"bft-studio-project\")");
    Task task;
    if (!live::task_from_name(j.value(QStringLiteral("task")).toString().toStdString(), &task))
        throw Error("unknown task '" + j.value(QStringLiteral("task")).toString().toStdString() + "'");
    QImage source = imageFromBase64(j.value(QStringLiteral("source_png")));
    if (source.isNull())
        throw Error("the embedded source image is damaged");
    // Parse everything before touching the document, so a bad file changes nothing.
    live::Skeleton skeleton{};
    const QJsonArray points = j.value(QStringLiteral("keypoints")).toArray();
    for (int k = 0; k < live::kKeypoints && k < points.size(); ++k) {
        const QJsonArray p = points[k].toArray();
        const double x = p.at(0).toDouble(), y = p.at(1).toDouble();
        if (!std::isfinite(x) || !std::isfinite(y) || std::abs(x) > 1e6 || std::abs(y) > 1e6)
            throw Error("keypoint " + std::to_string(k) + " lies at an impossible position");
        skeleton[k] = {static_cast<float>(x), static_cast<float>(y), p.at(2).toInt() != 0};
    }
    const live::Raster depthMap = rasterFromJson(j.value(QStringLiteral("depth_map")));
    const live::Raster lowDepth = rasterFromJson(j.value(QStringLiteral("low_depth")));
    const live::Raster sketch = rasterFromJson(j.value(QStringLiteral("sketch")));
    QList<QImage> textures;
    for (const QJsonValue& t : j.value(QStringLiteral("textures_png")).toArray()) {
        textures.append(imageFromBase64(t).convertToFormat(QImage::Format_RGB888));
        if (textures.back().isNull())
            throw Error("an embedded texture is damaged");
    }
    QList<PatchPlacement> patches;
    for (const QJsonValue& v : j.value(QStringLiteral("patches")).toArray()) {
        const QJsonArray p = v.toArray();
        const int texture = p.at(0).toInt(-1);
        if (texture < 0 || texture >= textures.size())
            throw Error("a patch names texture " + std::to_string(texture) + ", but there are " + std::to_string(textures.size()));
        const QRectF rect(p.at(1).toDouble(), p.at(2).toDouble(), p.at(3).toDouble(), p.at(4).toDouble());
        for (double v : {rect.x(), rect.y(), rect.width(), rect.height()})
            if (!std::isfinite(v) || std::abs(v) > 1e6)
                throw Error("a patch has an impossible position or size");
        // At most twice the image a side: a patch is scaled to its rectangle.
        if (rect.width() < 1 || rect.height() < 1 || rect.width() > 2.0 * source.width() || rect.height() > 2.0 * source.height())
            throw Error("a patch has an impossible position or size");
        patches.append({texture, rect});
    }
    const QJsonObject s = j.value(QStringLiteral("settings")).toObject();
    Settings settings;
    settings.fullSize = std::clamp(s.value(QStringLiteral("full_size")).toInt(256), 32, 2048);
    settings.previewSize = std::clamp(s.value(QStringLiteral("preview_size")).toInt(128), 32, 2048);
    settings.previewBf16 = s.value(QStringLiteral("preview_bf16")).toBool(true);
    settings.device = s.value(QStringLiteral("device")).toString(QStringLiteral("cpu"));
    settings.threads = s.value(QStringLiteral("threads")).toInt(0);
    settings.lowMemory = s.value(QStringLiteral("low_memory")).toBool(false);
    QString model = j.value(QStringLiteral("model")).toString();
    if (!model.isEmpty() && QFileInfo(model).isRelative())
        model = QFileInfo(baseDir + QLatin1Char('/') + model).absoluteFilePath();

    undo_->clear();
    task_ = task;
    source_ = source.convertToFormat(QImage::Format_RGB888);
    sourcePath_ = j.value(QStringLiteral("source_path")).toString();
    skeleton_ = skeleton;
    depthMap_ = depthMap;
    depthPath_ = j.value(QStringLiteral("depth_path")).toString();
    depthFactor_ = std::clamp(j.value(QStringLiteral("depth_factor")).toInt(8), 1, 64);
    lowDepth_ = lowDepth;
    sketch_ = sketch;
    ++sketchGeneration_;
    textures_ = textures;
    patches_ = patches;
    settings_ = settings;
    modelPath_ = model;
    Q_EMIT taskChanged();
    Q_EMIT sourceChanged();
    Q_EMIT settingsChanged();
    Q_EMIT modelPathChanged();
    Q_EMIT guideChanged();
}

void Document::save(const QString& path) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw Error(path.toStdString() + ": cannot write (" + file.errorString().toStdString() + ")");
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Compact));
    if (!file.commit())
        throw Error(path.toStdString() + ": cannot write (" + file.errorString().toStdString() + ")");
}

void Document::load(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(path.toStdString() + ": cannot open (" + file.errorString().toStdString() + ")");
    if (file.size() > (qint64(1) << 30)) // a session with its images is megabytes, not gigabytes
        throw Error(path.toStdString() + ": too large to be a bFT Studio project (" + std::to_string(file.size()) + " bytes)");
    QJsonParseError err{};
    const QJsonDocument json = QJsonDocument::fromJson(file.readAll(), &err);
    if (json.isNull())
        throw Error(path.toStdString() + ": not valid JSON (" + err.errorString().toStdString() + ")");
    try {
        fromJson(json.object(), QFileInfo(path).absolutePath());
    } catch (const Error& e) {
        throw Error(path.toStdString() + ": " + e.what());
    }
    undo_->setClean();
}

bool Document::isModified() const { return !undo_->isClean(); }
void Document::setClean() { undo_->setClean(); }

} // namespace bft::studio
