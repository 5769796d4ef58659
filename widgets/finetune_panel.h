// The fine-tuning panel: trains the generator on the user's own paired dataset from the GUI.
// Pick a dataset (checked at once; training cannot start on broken data), a base model (the
// editor's, any checkpoint, or from scratch), settings with per-task defaults that are remembered;
// start, pause, resume, stop; watch the losses (raw and smoothed), validation L1 and sample sheets;
// list the run's checkpoints and swap one into the editor while training goes on. On the CPU or a
// GPU; with several processes (one per GPU), the run is `bft train --nproc N`, shown as one run.
#pragma once

#include "live_training.h"

#include <QString>
#include <QWidget>

#include <memory>
#include <thread>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;
class QToolButton;

namespace bft::studio {

class Document;
class LossChart;
class TrainingWorker;

class FinetunePanel : public QWidget {
    Q_OBJECT
public:
    enum class State { Idle, Checking, Training, Pausing, Paused, Stopping };
    explicit FinetunePanel(Document* doc, QWidget* parent = nullptr);
    ~FinetunePanel() override;

    // For people and tests alike: each mirrors a button.
    void setDataset(const QString& dir);           // runs the checker (asynchronously)
    bool datasetOk() const { return datasetOk_; }
    void setRunDirectory(const QString& dir);
    QString runDirectory() const;
    bool start();
    void pause();
    void resume();
    void stop();
    bool openRun(const QString& dir);              // reopen a run folder (charts, samples, checkpoints)
    bool useInEditor(int checkpointRow);           // emits useCheckpoint

    State state() const { return state_; }
    int lastStep() const { return lastStep_; }
    int chartPoints() const;
    const live::RunInfo& runInfo() const { return run_; }
    TrainingWorker* worker() const { return worker_; }
    // Settings, for tests: steps, batch and intervals.
    void setSteps(int steps, int batch, int every);
    void setFromScratch(int ngf);
    // Data parallel: this many processes (1: in the editor's own), run by this `bft` program
    // (default: the one beside the editor).
    void setProcesses(int processes);
    void setBftProgram(const QString& path) { bftProgram_ = path; }

Q_SIGNALS:
    void useCheckpoint(const QString& path); // the window loads it into the editor
    void datasetChecked(bool ok);
    void stateChanged(bft::studio::FinetunePanel::State state);
    void previewShown(int step);
    void message(const QString& text);

private:
    void setState(State s);
    void loadDefaults(const QString& task);
    void saveSettings() const;
    void refreshCheckpoints();
    void showPreview(const QString& png, int step);
    void onTick(const live::TrainTick& t);
    live::TrainRequest howToRun() const; // device, processes, program
    void updateProcessRange();

    Document* doc_;
    TrainingWorker* worker_;
    State state_ = State::Idle;
    bool datasetOk_ = false;
    QString datasetTask_;
    live::RunInfo run_;
    int lastStep_ = 0, total_ = 0;
    qint64 lastUiUpdate_ = 0;
    int checkGeneration_ = 0;
    std::vector<std::thread> helpers_; // joined on destruction
    std::vector<QWidget*> dataButtons_;

    QLineEdit* data_;
    QPlainTextEdit* report_;
    QComboBox* base_;
    QLineEdit* basePath_;
    QSpinBox* ngf_;
    QSpinBox* steps_;
    QSpinBox* batch_;
    QDoubleSpinBox* lr_;
    QDoubleSpinBox* l1_;
    QCheckBox* gan_;
    QCheckBox* flip_;
    QSpinBox* valEvery_;
    QSpinBox* previewEvery_;
    QSpinBox* checkpointEvery_;
    QComboBox* device_;
    QSpinBox* processes_;
    QString bftProgram_;
    QLineEdit* runDir_;
    QPushButton* startButton_;
    QPushButton* pauseButton_;
    QPushButton* resumeButton_;
    QPushButton* stopButton_;
    QProgressBar* progress_;
    QLabel* status_;
    QTabWidget* tabs_;
    QToolButton* settingsToggle_;
    LossChart* losses_;
    LossChart* validation_;
    QLabel* sample_;
    QTableWidget* checkpoints_;
};

} // namespace bft::studio
