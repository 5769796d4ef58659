// The thread a fine-tuning run trains in. One job at a time: start a new run or resume one from
// its folder; stop() asks it to checkpoint and return (the panel's pause and stop both do that, so
// a run can always be resumed exactly, even after the app was closed). Progress, preview sheets,
// the end and errors come back by signal.
#pragma once

#include "live_training.h"

#include <QMetaType>
#include <QString>
#include <QThread>

#include <atomic>
#include <optional>

namespace bft::studio {

class TrainingWorker : public QThread {
    Q_OBJECT
public:
    explicit TrainingWorker(QObject* parent = nullptr);
    ~TrainingWorker() override; // stops and joins: the run is checkpointed first

    // Both return false (and do nothing) while a job runs.
    bool startRun(const live::TrainRequest& request);
    // `how`: the device and processes to go on with (the run keeps its own settings).
    bool resumeRun(const QString& runDir, const live::TrainRequest& how = {});
    void stop();
    bool isTraining() const { return active_.load(); }

Q_SIGNALS:
    void runStarted(const QString& runDir, int step, int total);
    void tick(const bft::live::TrainTick& tick);
    void preview(const QString& png, int step);
    void runFinished(const QString& runDir, int step, bool complete); // complete: the last step was reached
    void runFailed(const QString& runDir, const QString& message);

protected:
    void run() override;

private:
    std::optional<live::TrainRequest> request_;
    QString resumeDir_;
    live::TrainRequest resumeHow_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> active_{false}; // false from the moment the end is reported, before the thread is gone
};

} // namespace bft::studio

Q_DECLARE_METATYPE(bft::live::TrainTick)
