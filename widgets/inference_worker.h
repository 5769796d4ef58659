// The thread that owns the model. The GUI thread never runs the network: it posts requests, and
// results come back by signal. As in Qt's Mandelbrot example, the newest request wins: while one
// forward runs, only the latest pending request is kept (older ones are dropped), and a newer
// request stops a running full-size forward between layers (previews are left to finish, so a
// drag shows frames at the rate the network manages). Results carry their request's sequence
// number; the receiver drops any older than what it already shows (generation counter).
#pragma once

#include "live.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace bft::studio {

using ResultPtr = std::shared_ptr<const live::Result>;

class InferenceWorker : public QThread {
    Q_OBJECT
public:
    explicit InferenceWorker(QObject* parent = nullptr);
    ~InferenceWorker() override; // stops the current forward and joins

    // Queue a model load / device change; done in order before the next request.
    void loadModel(const QString& path, live::Task task);
    void setDevice(const QString& device, int threads);
    // Returns the request's sequence number. `preview` marks a drag frame.
    long long request(live::Request request, bool preview);

    bool isBusy() const { return busy_.load(); }
    long long forwardsStarted() const { return forwards_.load(); }
    long long latestSequence() const { return seq_.load(); }

Q_SIGNALS:
    void resultReady(bft::studio::ResultPtr result, bool preview);
    void failed(long long seq, const QString& message);
    void modelLoaded(const QString& path, const QString& description, int nativeSize);
    void modelFailed(const QString& path, const QString& message);
    void deviceChanged(const QString& description, bool bf16Available);
    void busyChanged(bool busy);

protected:
    void run() override;

private:
    struct Pending {
        live::Request request;
        bool preview = false;
    };
    struct Control {
        enum Kind { Load, Device } kind;
        QString a;
        int n = 0;
    };

    // std:: rather than QMutex/QWaitCondition: the same here, and ThreadSanitizer sees through them
    // (Debian's Qt is not instrumented and its QMutex is a bare futex).
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::optional<Pending> pending_;
    std::vector<Control> controls_;
    bool quit_ = false;
    bool runningPreview_ = false;
    std::atomic<bool> cancel_{false};
    std::atomic<bool> busy_{false};
    std::atomic<long long> seq_{0};
    std::atomic<long long> forwards_{0};
    std::unique_ptr<live::LiveModel> model_;
};

} // namespace bft::studio

Q_DECLARE_METATYPE(bft::studio::ResultPtr)
