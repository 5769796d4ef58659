#include "training_worker.h"

#include "runtime.h"

#include <exception>

namespace bft::studio {

TrainingWorker::TrainingWorker(QObject* parent) : QThread(parent)
{
    qRegisterMetaType<bft::live::TrainTick>();
    setObjectName(QStringLiteral("bft training")); // the thread's name (top -H, gdb)
}

TrainingWorker::~TrainingWorker()
{
    stop_ = true;
    wait();
}

bool TrainingWorker::startRun(const live::TrainRequest& request)
{
    if (active_)
        return false;
    wait(); // a run that has just reported its end may still be unwinding
    active_ = true;
    request_ = request;
    resumeDir_.clear();
    stop_ = false;
    start(QThread::LowPriority); // the editor's previews come first
    return true;
}

bool TrainingWorker::resumeRun(const QString& runDir, const live::TrainRequest& how)
{
    if (active_)
        return false;
    wait();
    active_ = true;
    request_.reset();
    resumeDir_ = runDir;
    resumeHow_ = how;
    stop_ = false;
    start(QThread::LowPriority);
    return true;
}

void TrainingWorker::stop() { stop_ = true; }

void TrainingWorker::run()
{
    bft::block_async_signals(); // it (and the data loader it starts) runs oneDNN's GEMM (runtime.h)
    QString dir = request_ ? QString::fromStdString(request_->run_dir) : resumeDir_;
    try {
        std::unique_ptr<live::TrainingJob> job =
            request_ ? live::TrainingJob::start(*request_) : live::TrainingJob::resume(resumeDir_.toStdString(), resumeHow_);
        dir = QString::fromStdString(job->run_dir());
        Q_EMIT runStarted(dir, job->step(), job->total());
        const int reached = job->run([this](const live::TrainTick& t) { Q_EMIT tick(t); },
                                     [this](const std::string& png, int step) { Q_EMIT preview(QString::fromStdString(png), step); },
                                     &stop_);
        const bool complete = reached >= job->total();
        job.reset();
        active_ = false;
        Q_EMIT runFinished(dir, reached, complete);
    } catch (const std::exception& e) {
        active_ = false;
        Q_EMIT runFailed(dir, QString::fromStdString(e.what()));
    }
}

} // namespace bft::studio
