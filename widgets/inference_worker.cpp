#include "inference_worker.h"

#include "runtime.h"

#include <exception>

namespace bft::studio {

InferenceWorker::InferenceWorker(QObject* parent) : QThread(parent), model_(std::make_unique<live::LiveModel>())
{
    qRegisterMetaType<bft::studio::ResultPtr>();
    setObjectName(QStringLiteral("bft inference")); // the thread's name (top -H, gdb, the tests)
    start();
}

InferenceWorker::~InferenceWorker()
{
    {
        std::unique_lock<std::mutex> lock(mutex_);
        quit_ = true;
        cancel_ = true;
        wake_.notify_one();
    }
    wait();
}

void InferenceWorker::loadModel(const QString& path, live::Task task)
{
    std::unique_lock<std::mutex> lock(mutex_);
    controls_.push_back({Control::Load, path, static_cast<int>(task)});
    cancel_ = true; // the running forward belongs to the old model
    wake_.notify_one();
}

void InferenceWorker::setDevice(const QString& device, int threads)
{
    std::unique_lock<std::mutex> lock(mutex_);
    controls_.push_back({Control::Device, device, threads});
    cancel_ = true;
    wake_.notify_one();
}

long long InferenceWorker::request(live::Request request, bool preview)
{
    std::unique_lock<std::mutex> lock(mutex_);
    request.seq = ++seq_;
    pending_ = Pending{std::move(request), preview};
    // A stale full-size forward is not worth finishing; a preview is (it is nearly done, and
    // cancelling every drag frame would show none).
    if (busy_ && !runningPreview_)
        cancel_ = true;
    wake_.notify_one();
    return seq_;
}

void InferenceWorker::run()
{
    bft::block_async_signals(); // it runs oneDNN's GEMM (runtime.h)
    for (;;) {
        std::vector<Control> controls;
        Pending job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return quit_ || !controls_.empty() || pending_; });
            if (quit_)
                return;
            controls.swap(controls_);
            if (controls.empty()) {
                job = std::move(*pending_);
                pending_.reset();
                runningPreview_ = job.preview;
                busy_ = true;
            }
            cancel_ = false;
        }
        if (!controls.empty()) {
            for (const Control& c : controls) {
                try {
                    if (c.kind == Control::Load) {
                        model_->load(c.a.toStdString(), static_cast<live::Task>(c.n));
                        Q_EMIT modelLoaded(c.a, QString::fromStdString(model_->info().description), model_->info().native_size);
                    } else {
                        const std::string d = model_->set_device(c.a.toStdString(), c.n);
                        Q_EMIT deviceChanged(QString::fromStdString(d), model_->bf16_available());
                    }
                } catch (const std::exception& e) {
                    if (c.kind == Control::Load)
                        Q_EMIT modelFailed(c.a, QString::fromStdString(e.what()));
                    else
                        Q_EMIT failed(0, QString::fromStdString(e.what()));
                }
            }
            continue; // a pending request, if any, runs on the next turn with the new model
        }
        Q_EMIT busyChanged(true);
        ++forwards_;
        try {
            if (model_->loaded()) {
                auto result = std::make_shared<live::Result>(model_->run(job.request, &cancel_));
                if (!result->cancelled)
                    Q_EMIT resultReady(result, job.preview);
            }
        } catch (const std::exception& e) {
            Q_EMIT failed(job.request.seq, QString::fromStdString(e.what()));
        }
        bool idle;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            idle = !pending_ && controls_.empty();
            busy_ = !idle;
        }
        if (idle)
            Q_EMIT busyChanged(false);
    }
}

} // namespace bft::studio
