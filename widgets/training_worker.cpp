#include "training_worker.h"

#include <exception>

namespace bft::studio {

TrainingWorker::TrainingWorker(QObject* parent) : QThread(parent) { qRegisterMetaType<bft::live::TrainTick>(); }

TrainingWorker::~TrainingWorker()
{
    stop_ = true;
    wait();
}

bool TrainingWorker::startRun(const live::TrainRequest& request)
{
    if (isRunning())
        return false;
    request_ = request;
    resumeDir_.clear();
    stop_ = false;
    start(QThread::LowPriority); // the editor's previews come first
    return true;
}

bool TrainingWorker::resumeRun(const QString& runDir)
{
    if (isRunning())
        return false;
    request_.reset();
    resumeDir_ = runDir;
    stop_ = false;
    start(QThread::LowPriority);
    return true;
}

void TrainingWorker::stop() { stop_ = true; }

void TrainingWorker::run()
{
    QString dir = request_ ? QString::fromStdString(request_->run_dir) : resumeDir_;
    try {
        std::unique_ptr<live::TrainingJob> job =
            request_ ? live::TrainingJob::start(*request_) : live::TrainingJob::resume(resumeDir_.toStdString());
        dir = QString::fromStdString(job->run_dir());
        Q_EMIT started(dir, job->step(), job->total());
        const int reached = job->run([this](const live::TrainTick& t) { Q_EMIT tick(t); },
                                     [this](const std::string& png, int step) { Q_EMIT preview(QString::fromStdString(png), step); },
                                     &stop_);
        Q_EMIT finished(dir, reached, reached >= job->total());
    } catch (const std::exception& e) {
        Q_EMIT failed(dir, QString::fromStdString(e.what()));
    }
}

} // namespace bft::studio
