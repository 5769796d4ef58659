#include "live_session.h"

#include <QFileInfo>

namespace bft::studio {

LiveSession::LiveSession(Document* doc, QObject* parent) : QObject(parent), doc_(doc), worker_(new InferenceWorker(this))
{
    connect(worker_, &InferenceWorker::resultReady, this, &LiveSession::onResult);
    connect(worker_, &InferenceWorker::busyChanged, this, &LiveSession::busyChanged);
    connect(worker_, &InferenceWorker::failed, this, [this](long long seq, const QString& message) {
        if (seq == 0 || seq >= validFrom_)
            Q_EMIT error(message);
    });
    connect(worker_, &InferenceWorker::modelLoaded, this, [this](const QString& path, const QString& description, int nativeSize) {
        loadedPath_ = path;
        loadedTask_ = requestedTask_;
        if (path != doc_->modelPath())
            return; // a newer choice is on its way
        modelReady_ = true;
        modelDescription_ = description;
        Q_EMIT modelChanged(true, description);
        Q_EMIT modelLoaded(path, nativeSize);
        lastKey_ = 0;
        refresh(false);
    });
    connect(worker_, &InferenceWorker::modelFailed, this, [this](const QString& path, const QString& message) {
        if (path != doc_->modelPath())
            return;
        // The worker kept the model it had: the document goes back to it, and so do results.
        {
            const QSignalBlocker block(doc_);
            doc_->setModelPath(loadedPath_);
        }
        modelReady_ = !loadedPath_.isEmpty() && loadedTask_ == doc_->task();
        Q_EMIT modelChanged(modelReady_, modelReady_ ? modelDescription_ : tr("no model"));
        Q_EMIT error(message);
        lastKey_ = 0;
        refresh(false);
    });
    connect(worker_, &InferenceWorker::deviceChanged, this, [this](const QString& description, bool bf16) {
        deviceDescription_ = description;
        bf16Available_ = bf16;
        Q_EMIT deviceChanged(description);
        lastKey_ = 0;
        refresh(false);
    });
    connect(doc_, &Document::guideChanged, this, [this] { refresh(dragging_); });
    connect(doc_, &Document::sourceChanged, this, [this] {
        validFrom_ = lastSeq_ + 1; // results for the old image must not land on the new one
        current_.reset();
        currentFull_.reset();
    });
    connect(doc_, &Document::taskChanged, this, [this] {
        // The loaded model belongs to the old task: nothing runs until one for this task is in.
        modelReady_ = loadedTask_ == doc_->task() && !loadedPath_.isEmpty() && loadedPath_ == doc_->modelPath();
        validFrom_ = lastSeq_ + 1;
        current_.reset();
        currentFull_.reset();
    });
    connect(doc_, &Document::modelPathChanged, this, [this] {
        // Until the new model is in, results belong to the old one: drop them.
        validFrom_ = lastSeq_ + 1;
        modelReady_ = false;
        lastKey_ = 0;
        if (!doc_->modelPath().isEmpty()) {
            requestedTask_ = doc_->task();
            worker_->loadModel(doc_->modelPath(), doc_->task());
        }
        Q_EMIT modelChanged(false, tr("loading %1…").arg(QFileInfo(doc_->modelPath()).fileName()));
    });
    connect(doc_, &Document::settingsChanged, this, [this] {
        lastKey_ = 0;
        refresh(false);
    });
}

LiveSession::~LiveSession() = default;

void LiveSession::applyDevice() { worker_->setDevice(doc_->settings().device, doc_->settings().threads); }

void LiveSession::setDragging(bool dragging)
{
    if (dragging == dragging_)
        return;
    dragging_ = dragging;
    if (!dragging)
        refresh(false);
}

void LiveSession::refresh(bool preview)
{
    if (!modelReady_ || doc_->source().isNull())
        return;
    const int side = preview ? doc_->settings().previewSize : doc_->settings().fullSize;
    const quint64 key = doc_->contentKey(side, preview);
    if (key == lastKey_)
        return; // nothing the network sees has changed
    lastKey_ = key;
    live::Request rq = doc_->makeRequest(side, preview);
    rq.bf16 = rq.bf16 && bf16Available_; // only where bf16 is the faster precision (measured)
    rq.capture_film = !preview;
    ++requests_;
    lastSeq_ = worker_->request(std::move(rq), preview);
}

void LiveSession::onResult(ResultPtr result, bool preview)
{
    // Generation counter: never let an older result replace a newer one, nor one made before the
    // image, task or model changed.
    if (result->seq <= shownSeq_ || result->seq < validFrom_)
        return;
    shownSeq_ = result->seq;
    current_ = result;
    if (!preview)
        currentFull_ = result;
    Q_EMIT resultShown(result, preview);
}

} // namespace bft::studio
