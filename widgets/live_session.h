// Live translation: watches the document and keeps one result in step with the guide. During a
// drag it asks for preview frames (preview size, bf16 where available); when the guide rests, for
// the full-size result with its gamma/beta maps. Requests whose inputs did not change are skipped;
// results older than the one on screen are dropped (generation counter), as are results for a
// model or task that is no longer current.
#pragma once

#include "document.h"
#include "inference_worker.h"

#include <QElapsedTimer>
#include <QObject>

namespace bft::studio {

class LiveSession : public QObject {
    Q_OBJECT
public:
    explicit LiveSession(Document* doc, QObject* parent = nullptr);
    ~LiveSession() override;

    InferenceWorker* worker() const { return worker_; }
    ResultPtr current() const { return current_; }          // the result on screen
    ResultPtr currentFull() const { return currentFull_; }  // the last full-size one (has maps)
    bool modelReady() const { return modelReady_; }
    QString modelDescription() const { return modelDescription_; }
    QString deviceDescription() const { return deviceDescription_; }
    bool bf16Available() const { return bf16Available_; }
    long long requestsMade() const { return requests_; }
    long long lastRequestSeq() const { return lastSeq_; }

    void setDragging(bool dragging); // false: ask for the full-size result now
    bool dragging() const { return dragging_; }
    void refresh(bool preview);      // ask for a result of the current guide (skipped if unchanged)
    void applyDevice();              // the document's device/threads settings

Q_SIGNALS:
    void resultShown(bft::studio::ResultPtr result, bool preview);
    void busyChanged(bool busy);
    void modelChanged(bool ready, const QString& description);
    // A model is in (nativeSize: the size its card says it was trained at, or 0).
    void modelLoaded(const QString& path, int nativeSize);
    void deviceChanged(const QString& description);
    void error(const QString& message);

private:
    void onResult(ResultPtr result, bool preview);

    Document* doc_;
    InferenceWorker* worker_;
    ResultPtr current_, currentFull_;
    bool dragging_ = false;
    bool modelReady_ = false;
    bool bf16Available_ = false;
    QString modelDescription_, deviceDescription_;
    QString loadedPath_; // what the worker holds: it keeps it when a new model fails to load
    live::Task loadedTask_ = live::Task::Pose, requestedTask_ = live::Task::Pose;
    quint64 lastKey_ = 0;
    long long lastSeq_ = 0, shownSeq_ = 0, validFrom_ = 0, requests_ = 0;
};

} // namespace bft::studio
