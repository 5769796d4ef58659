#include "finetune_panel.h"

#include "document.h"
#include "import_dialog.h"
#include "loss_chart.h"
#include "training_worker.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QTabWidget>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <exception>
#include <thread>

namespace bft::studio {

namespace {

enum Base { EditorModel, Checkpoint, ScratchBft, ScratchUft };

QString duration(double s)
{
    if (!std::isfinite(s) || s < 0)
        return QStringLiteral("?");
    const long t = std::lround(s);
    return t >= 3600 ? QStringLiteral("%1h%2m").arg(t / 3600).arg(t / 60 % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

FinetunePanel::FinetunePanel(Document* doc, QWidget* parent) : QWidget(parent), doc_(doc), worker_(new TrainingWorker(this))
{
    // --- data
    data_ = new QLineEdit;
    data_->setPlaceholderText(tr("a dataset folder (dataset.json, train/, val/)"));
    auto* browse = new QPushButton(tr("Browse…"));
    auto* importButton = new QPushButton(tr("Import…"));
    importButton->setToolTip(tr("Import DeepFashion/Market pose pairs, NYU Depth v2, TextureGAN folders, pix2pix pairs or RGB-D frames"));
    auto* makeSynth = new QPushButton(tr("Make synthetic…"));
    makeSynth->setToolTip(tr("Write a small synthetic dataset of the editor's task to try fine-tuning on"));
    report_ = new QPlainTextEdit;
    report_->setReadOnly(true);
    report_->setMaximumHeight(56);
    report_->setPlaceholderText(tr("The dataset check appears here."));
    auto* dataBox = new QGroupBox(tr("Dataset"));
    auto* dl = new QVBoxLayout(dataBox);
    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(data_, 1);
    dataRow->addWidget(browse);
    dataRow->addWidget(importButton);
    dataRow->addWidget(makeSynth);
    dataButtons_ = {browse, importButton, makeSynth};
    dl->addLayout(dataRow);
    dl->addWidget(report_);

    // --- base model and settings
    base_ = new QComboBox;
    base_->addItem(tr("The editor's model"), EditorModel);
    base_->addItem(tr("A checkpoint…"), Checkpoint);
    base_->addItem(tr("From scratch (bFT)"), ScratchBft);
    base_->addItem(tr("From scratch (uFT, one-way baseline)"), ScratchUft);
    basePath_ = new QLineEdit;
    basePath_->setReadOnly(true);
    ngf_ = new QSpinBox;
    ngf_->setRange(4, 128);
    ngf_->setValue(32);
    ngf_->setEnabled(false);
    steps_ = new QSpinBox;
    steps_->setRange(1, 10000000);
    batch_ = new QSpinBox;
    batch_->setRange(1, 256);
    lr_ = new QDoubleSpinBox;
    lr_->setDecimals(6);
    lr_->setRange(1e-6, 1.0);
    lr_->setSingleStep(1e-5);
    l1_ = new QDoubleSpinBox;
    l1_->setRange(0, 10000);
    gan_ = new QCheckBox(tr("GAN loss (LSGAN, PatchGAN)"));
    flip_ = new QCheckBox(tr("Random horizontal flips"));
    valEvery_ = new QSpinBox;
    valEvery_->setRange(0, 1000000);
    previewEvery_ = new QSpinBox;
    previewEvery_->setRange(0, 1000000);
    checkpointEvery_ = new QSpinBox;
    checkpointEvery_->setRange(1, 1000000);
    device_ = new QComboBox;
    for (const std::string& d : live::devices())
        device_->addItem(d == "cpu" ? tr("CPU") : tr("GPU %1").arg(QString::fromStdString(d)), QString::fromStdString(d));
    processes_ = new QSpinBox;
    processes_->setToolTip(tr("Data-parallel training: this many processes share each batch (bft train --nproc). "
                              "On GPUs, one process per GPU: GPUs 0 to N-1."));
    updateProcessRange();
    connect(device_, &QComboBox::currentIndexChanged, this, [this] { updateProcessRange(); });
    bftProgram_ = QCoreApplication::applicationDirPath() + QStringLiteral("/bft");
    // Two label/field pairs a row: the chart below should be in view without scrolling.
    auto* settingsBox = new QGroupBox(tr("Model and settings"));
    auto* grid = new QGridLayout(settingsBox);
    grid->addWidget(new QLabel(tr("Start from")), 0, 0);
    grid->addWidget(base_, 0, 1, 1, 3);
    grid->addWidget(basePath_, 1, 1, 1, 3);
    const std::pair<QString, QWidget*> fields[] = {
        {tr("Width (ngf)"), ngf_},          {tr("Steps"), steps_},
        {tr("Batch"), batch_},              {tr("Learning rate"), lr_},
        {tr("L1 weight"), l1_},             {tr("Validate every"), valEvery_},
        {tr("Samples every"), previewEvery_}, {tr("Checkpoint every"), checkpointEvery_},
        {tr("Device"), device_},            {tr("Processes"), processes_},
    };
    int row = 2, col = 0;
    for (const auto& [label, field] : fields) {
        grid->addWidget(new QLabel(label), row, col);
        grid->addWidget(field, row, col + 1);
        col += 2;
        if (col == 4)
            col = 0, ++row;
    }
    grid->addWidget(gan_, row, 0, 1, 2);
    grid->addWidget(flip_, row, 2, 1, 2);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);

    // --- run controls
    runDir_ = new QLineEdit;
    runDir_->setPlaceholderText(tr("run folder (made when training starts)"));
    auto* openRunButton = new QPushButton(tr("Open run…"));
    startButton_ = new QPushButton(tr("Start"));
    pauseButton_ = new QPushButton(tr("Pause"));
    resumeButton_ = new QPushButton(tr("Resume"));
    stopButton_ = new QPushButton(tr("Stop"));
    progress_ = new QProgressBar;
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_ = new QLabel(tr("Idle"));
    status_->setWordWrap(true);
    auto* runBox = new QGroupBox(tr("Run"));
    auto* rl = new QVBoxLayout(runBox);
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(runDir_, 1);
    runRow->addWidget(openRunButton);
    rl->addLayout(runRow);
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {startButton_, pauseButton_, resumeButton_, stopButton_})
        buttons->addWidget(b);
    rl->addLayout(buttons);
    rl->addWidget(progress_);
    rl->addWidget(status_);

    // --- what the run shows
    losses_ = new LossChart(tr("Losses"), /*logScale=*/true);
    losses_->addCurve(tr("G L1 (weighted)"), QColor(31, 119, 180));
    losses_->addCurve(tr("G GAN"), QColor(255, 127, 14));
    losses_->addCurve(tr("D real"), QColor(44, 160, 44));
    losses_->addCurve(tr("D fake"), QColor(214, 39, 40));
    validation_ = new LossChart(tr("Validation L1"), /*logScale=*/false);
    validation_->addCurve(tr("val L1"), QColor(148, 103, 189), /*smoothed=*/false);
    sample_ = new QLabel(tr("Sample sheets (input | guide | output | target) appear here during training."));
    sample_->setAlignment(Qt::AlignCenter);
    sample_->setWordWrap(true);
    auto* sampleScroll = new QScrollArea;
    sampleScroll->setWidget(sample_);
    sampleScroll->setWidgetResizable(true);
    checkpoints_ = new QTableWidget(0, 3);
    checkpoints_->setHorizontalHeaderLabels({tr("Step"), tr("Val L1"), tr("File")});
    checkpoints_->horizontalHeader()->setStretchLastSection(true);
    checkpoints_->setSelectionBehavior(QAbstractItemView::SelectRows);
    checkpoints_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    checkpoints_->verticalHeader()->setVisible(false);
    auto* use = new QPushButton(tr("Use in editor"));
    use->setToolTip(tr("Load the selected checkpoint into the editor; training goes on"));
    auto* ckPage = new QWidget;
    auto* cl = new QVBoxLayout(ckPage);
    cl->setContentsMargins(0, 0, 0, 0);
    cl->addWidget(checkpoints_);
    cl->addWidget(use);
    tabs_ = new QTabWidget;
    tabs_->addTab(losses_, tr("Losses"));
    tabs_->addTab(validation_, tr("Validation"));
    tabs_->addTab(sampleScroll, tr("Samples"));
    tabs_->addTab(ckPage, tr("Checkpoints"));
    tabs_->setMinimumHeight(260);

    // While a run trains, its settings cannot change: fold them away so the curves get the room.
    settingsToggle_ = new QToolButton;
    settingsToggle_->setCheckable(true);
    settingsToggle_->setChecked(true);
    settingsToggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    settingsToggle_->setAutoRaise(true);
    settingsToggle_->setText(tr("Settings"));
    settingsToggle_->setArrowType(Qt::DownArrow);
    connect(settingsToggle_, &QToolButton::toggled, this, [this, dataBox, settingsBox](bool on) {
        dataBox->setVisible(on);
        settingsBox->setVisible(on);
        settingsToggle_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    auto* inner = new QWidget;
    auto* layout = new QVBoxLayout(inner);
    layout->addWidget(settingsToggle_);
    layout->addWidget(dataBox);
    layout->addWidget(settingsBox);
    layout->addWidget(runBox);
    layout->addWidget(tabs_, 1);
    auto* scroll = new QScrollArea;
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset folder"), data_->text());
        if (!dir.isEmpty())
            setDataset(dir);
    });
    connect(importButton, &QPushButton::clicked, this, [this] {
        ImportDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted && dialog.succeeded())
            setDataset(dialog.destination());
    });
    connect(data_, &QLineEdit::editingFinished, this, [this] { setDataset(data_->text()); });
    connect(makeSynth, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Where to write the synthetic dataset"));
        if (dir.isEmpty())
            return;
        const QString out = QDir(dir).filePath(QStringLiteral("synthetic-%1").arg(QString::fromLatin1(live::task_name(doc_->task()))));
        status_->setText(tr("Writing a synthetic dataset to %1…").arg(out));
        const std::string task = live::task_name(doc_->task());
        QPointer<FinetunePanel> self(this);
        helpers_.emplace_back([self, out, task] {
            QString error;
            try {
                live::make_synthetic_dataset(task, 200, 128, 0, out.toStdString());
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
            QMetaObject::invokeMethod(qApp, [self, out, error] {
                if (!self)
                    return;
                if (!error.isEmpty())
                    QMessageBox::warning(self, tr("Synthetic dataset"), error);
                else
                    self->setDataset(out);
            });
        });
    });
    connect(base_, &QComboBox::activated, this, [this] {
        const int b = base_->currentData().toInt();
        ngf_->setEnabled(b == ScratchBft || b == ScratchUft);
        if (b == Checkpoint) {
            const QString path = QFileDialog::getOpenFileName(this, tr("Base checkpoint"), QString(), tr("PyTorch checkpoints (*.pth *.pt)"));
            if (path.isEmpty())
                base_->setCurrentIndex(0);
            basePath_->setText(path);
        } else {
            basePath_->setText(b == EditorModel ? doc_->modelPath() : QString());
        }
    });
    connect(doc_, &Document::modelPathChanged, this, [this] {
        if (base_->currentData().toInt() == EditorModel)
            basePath_->setText(doc_->modelPath());
    });
    connect(openRunButton, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a run folder"), runDir_->text());
        if (!dir.isEmpty())
            openRun(dir);
    });
    connect(startButton_, &QPushButton::clicked, this, &FinetunePanel::start);
    connect(pauseButton_, &QPushButton::clicked, this, &FinetunePanel::pause);
    connect(resumeButton_, &QPushButton::clicked, this, &FinetunePanel::resume);
    connect(stopButton_, &QPushButton::clicked, this, &FinetunePanel::stop);
    connect(use, &QPushButton::clicked, this, [this] { useInEditor(checkpoints_->currentRow()); });
    connect(checkpoints_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { useInEditor(row); });

    connect(worker_, &TrainingWorker::runStarted, this, [this](const QString& dir, int step, int total) {
        runDir_->setText(dir);
        lastStep_ = step;
        total_ = total;
        progress_->setRange(0, total);
        progress_->setValue(step);
        status_->setText(tr("Training from step %1 of %2…").arg(step).arg(total));
    });
    connect(worker_, &TrainingWorker::tick, this, &FinetunePanel::onTick);
    connect(worker_, &TrainingWorker::preview, this, [this](const QString& png, int step) {
        showPreview(png, step);
        refreshCheckpoints();
    });
    connect(worker_, &TrainingWorker::runFinished, this, [this](const QString&, int step, bool complete) {
        lastStep_ = step;
        progress_->setValue(step);
        refreshCheckpoints();
        if (complete) {
            status_->setText(tr("Finished at step %1.").arg(step));
            setState(State::Idle);
        } else if (state_ == State::Pausing) {
            status_->setText(tr("Paused at step %1 (checkpointed).").arg(step));
            setState(State::Paused);
        } else {
            status_->setText(tr("Stopped at step %1 (checkpointed; Open run… resumes it).").arg(step));
            setState(State::Idle);
        }
    });
    connect(worker_, &TrainingWorker::runFailed, this, [this](const QString& dir, const QString& text) {
        status_->setText(tr("Stopped by an error: %1").arg(text));
        refreshCheckpoints();
        // A run that got as far as its folder can be resumed once the cause is fixed.
        setState(QFileInfo::exists(dir + QStringLiteral("/config.json")) ? State::Paused : State::Idle);
        Q_EMIT message(text);
        auto* box = new QMessageBox(QMessageBox::Warning, tr("Training stopped"), text, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });

    loadDefaults(QString::fromLatin1(live::task_name(doc_->task())));
    connect(doc_, &Document::taskChanged, this, [this] {
        if (state_ == State::Idle)
            loadDefaults(QString::fromLatin1(live::task_name(doc_->task())));
    });
    basePath_->setText(doc_->modelPath());
    setState(State::Idle);
}

FinetunePanel::~FinetunePanel()
{
    saveSettings();
    worker_->stop(); // the worker's destructor joins after the checkpoint
    for (std::thread& t : helpers_) // dataset checks and synthetic datasets: finish, then go
        if (t.joinable())
            t.join();
}

void FinetunePanel::loadDefaults(const QString& task)
{
    // Per-task defaults (depth trains on L1 alone, as the paper does), then what the person chose last.
    QSettings s;
    s.beginGroup(QStringLiteral("finetune/") + task);
    steps_->setValue(s.value(QStringLiteral("steps"), 1000).toInt());
    batch_->setValue(s.value(QStringLiteral("batch"), 4).toInt());
    lr_->setValue(s.value(QStringLiteral("lr"), 2e-4).toDouble());
    l1_->setValue(s.value(QStringLiteral("lambda_l1"), 100.0).toDouble());
    gan_->setChecked(s.value(QStringLiteral("gan"), task != QStringLiteral("depth")).toBool());
    flip_->setChecked(s.value(QStringLiteral("flip"), true).toBool());
    valEvery_->setValue(s.value(QStringLiteral("val_every"), 100).toInt());
    previewEvery_->setValue(s.value(QStringLiteral("preview_every"), 100).toInt());
    checkpointEvery_->setValue(s.value(QStringLiteral("checkpoint_every"), 200).toInt());
    ngf_->setValue(s.value(QStringLiteral("ngf"), 32).toInt());
    const int device = device_->findData(s.value(QStringLiteral("device"), QStringLiteral("cpu")).toString());
    device_->setCurrentIndex(device >= 0 ? device : 0);
    processes_->setValue(s.value(QStringLiteral("processes"), 1).toInt());
    const QString data = s.value(QStringLiteral("data")).toString();
    if (!data.isEmpty() && data_->text().isEmpty())
        data_->setText(data);
}

void FinetunePanel::saveSettings() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("finetune/") + QString::fromLatin1(live::task_name(doc_->task())));
    s.setValue(QStringLiteral("steps"), steps_->value());
    s.setValue(QStringLiteral("batch"), batch_->value());
    s.setValue(QStringLiteral("lr"), lr_->value());
    s.setValue(QStringLiteral("lambda_l1"), l1_->value());
    s.setValue(QStringLiteral("gan"), gan_->isChecked());
    s.setValue(QStringLiteral("flip"), flip_->isChecked());
    s.setValue(QStringLiteral("val_every"), valEvery_->value());
    s.setValue(QStringLiteral("preview_every"), previewEvery_->value());
    s.setValue(QStringLiteral("checkpoint_every"), checkpointEvery_->value());
    s.setValue(QStringLiteral("ngf"), ngf_->value());
    s.setValue(QStringLiteral("device"), device_->currentData().toString());
    s.setValue(QStringLiteral("processes"), processes_->value());
    s.setValue(QStringLiteral("data"), data_->text());
}

void FinetunePanel::setSteps(int steps, int batch, int every)
{
    steps_->setValue(steps);
    batch_->setValue(batch);
    valEvery_->setValue(every);
    previewEvery_->setValue(every);
    checkpointEvery_->setValue(every);
}

void FinetunePanel::setFromScratch(int ngf)
{
    base_->setCurrentIndex(base_->findData(ScratchBft));
    ngf_->setValue(ngf);
    ngf_->setEnabled(true);
    basePath_->clear();
}

void FinetunePanel::updateProcessRange()
{
    // One process per GPU at most; on the CPU, one per core (each gets its share of the cores).
    const bool gpu = device_->currentData().toString().startsWith(QStringLiteral("cuda"));
    int gpus = 0;
    for (int i = 0; i < device_->count(); ++i)
        gpus += device_->itemData(i).toString().startsWith(QStringLiteral("cuda")) ? 1 : 0;
    processes_->setRange(1, std::max(1, gpu ? gpus : QThread::idealThreadCount()));
    processes_->setSuffix(gpu && processes_->value() > 1 ? tr(" (one per GPU)") : QString());
}

void FinetunePanel::setProcesses(int processes) { processes_->setValue(processes); }

live::TrainRequest FinetunePanel::howToRun() const
{
    live::TrainRequest rq;
    rq.device = device_->currentData().toString().toStdString();
    rq.processes = processes_->value();
    rq.bft_program = bftProgram_.toStdString();
    return rq;
}

void FinetunePanel::setDataset(const QString& dir)
{
    if (state_ != State::Idle && state_ != State::Checking)
        return; // the data of a run in progress does not change under it
    const int generation = ++checkGeneration_;
    data_->setText(dir);
    datasetOk_ = false;
    setState(State::Checking);
    report_->setPlainText(tr("Checking %1…").arg(dir));
    // The checker reads every file: off the GUI thread.
    QPointer<FinetunePanel> self(this);
    helpers_.emplace_back([self, dir, generation] {
        QString text, task;
        bool ok = false;
        try {
            const live::DatasetSummary s = live::check_dataset(dir.toStdString());
            task = QString::fromStdString(s.task);
            QStringList lines;
            QStringList counts;
            for (const auto& [split, n] : s.counts)
                counts << tr("%1: %2").arg(QString::fromStdString(split)).arg(n);
            lines << tr("%1 task; %2 samples").arg(task, counts.join(QStringLiteral(", ")));
            for (const auto& [file, problem] : s.problems)
                lines << QString::fromStdString(file) + QStringLiteral(": ") + QString::fromStdString(problem);
            ok = s.ok() && !s.counts.empty();
            if (s.ok())
                lines << (ok ? tr("No problems found.") : tr("No samples."));
            else
                lines << tr("%n problem(s): fix them before training.", nullptr, static_cast<int>(s.problems.size()));
            text = lines.join(QLatin1Char('\n'));
        } catch (const std::exception& e) {
            text = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(qApp, [self, text, ok, task, generation] {
            if (!self || generation != self->checkGeneration_)
                return; // a newer folder was picked meanwhile
            self->report_->setPlainText(text);
            self->datasetOk_ = ok;
            self->datasetTask_ = task;
            self->setState(State::Idle);
            Q_EMIT self->datasetChecked(ok);
        });
    });
}

void FinetunePanel::setRunDirectory(const QString& dir) { runDir_->setText(dir); }
QString FinetunePanel::runDirectory() const { return runDir_->text(); }

bool FinetunePanel::start()
{
    if (state_ != State::Idle) {
        Q_EMIT message(tr("A run is already going: pause or stop it first."));
        return false;
    }
    if (!datasetOk_) {
        Q_EMIT message(tr("Pick a dataset without problems first."));
        return false;
    }
    live::TrainRequest rq = howToRun();
    rq.data_dir = data_->text().toStdString();
    QString run = runDir_->text();
    if (run.isEmpty() || QFileInfo::exists(run + QStringLiteral("/config.json"))) {
        // A new folder beside the dataset, named by the time.
        const QFileInfo data(data_->text());
        run = data.absolutePath() + QLatin1Char('/') + data.fileName() + QStringLiteral("-runs/") +
              QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    }
    rq.run_dir = run.toStdString();
    const int b = base_->currentData().toInt();
    if (b == EditorModel || b == Checkpoint) {
        if (basePath_->text().isEmpty()) {
            Q_EMIT message(tr("No base model: open one in the editor, pick a checkpoint, or start from scratch."));
            return false;
        }
        rq.from = basePath_->text().toStdString();
    }
    rq.one_way = b == ScratchUft;
    rq.ngf = ngf_->value();
    rq.steps = steps_->value();
    rq.batch = batch_->value();
    rq.lr = lr_->value();
    rq.lambda_l1 = l1_->value();
    rq.gan = gan_->isChecked();
    rq.flip = flip_->isChecked();
    rq.val_every = valEvery_->value();
    rq.preview_every = previewEvery_->value();
    rq.checkpoint_every = checkpointEvery_->value();
    saveSettings();
    losses_->clear();
    validation_->clear();
    run_ = {};
    checkpoints_->setRowCount(0);
    runDir_->setText(run);
    if (!worker_->startRun(rq)) {
        Q_EMIT message(tr("A run is still finishing; try again in a moment."));
        return false;
    }
    setState(State::Training);
    settingsToggle_->setChecked(false);
    tabs_->setCurrentIndex(0);
    return true;
}

void FinetunePanel::pause()
{
    if (state_ != State::Training)
        return;
    worker_->stop();
    status_->setText(tr("Pausing: saving a checkpoint…"));
    setState(State::Pausing);
}

void FinetunePanel::resume()
{
    if (state_ != State::Paused || runDir_->text().isEmpty())
        return;
    if (!worker_->resumeRun(runDir_->text(), howToRun())) {
        Q_EMIT message(tr("A run is still finishing; try again in a moment."));
        return;
    }
    setState(State::Training);
    settingsToggle_->setChecked(false);
}

void FinetunePanel::stop()
{
    if (state_ == State::Paused) {
        status_->setText(tr("Stopped at step %1 (checkpointed; Open run… resumes it).").arg(lastStep_));
        setState(State::Idle);
        return;
    }
    if (state_ != State::Training && state_ != State::Pausing)
        return;
    worker_->stop();
    status_->setText(tr("Stopping: saving a checkpoint…"));
    setState(State::Stopping);
}

bool FinetunePanel::openRun(const QString& dir)
{
    if (state_ == State::Training || state_ == State::Pausing || state_ == State::Stopping)
        return false;
    try {
        run_ = live::read_run(dir.toStdString());
    } catch (const std::exception& e) {
        Q_EMIT message(QString::fromStdString(e.what()));
        QMessageBox::warning(this, tr("Open run"), QString::fromStdString(e.what()));
        return false;
    }
    runDir_->setText(dir);
    losses_->clear();
    validation_->clear();
    for (const live::TrainTick& t : run_.log) {
        losses_->append(0, t.step, t.g_l1);
        losses_->append(1, t.step, t.g_gan);
        losses_->append(2, t.step, t.d_real);
        losses_->append(3, t.step, t.d_fake);
        if (t.val_l1 >= 0)
            validation_->append(0, t.step, t.val_l1);
    }
    lastStep_ = run_.step_reached;
    total_ = run_.steps;
    progress_->setRange(0, std::max(1, run_.steps));
    progress_->setValue(run_.step_reached);
    if (!run_.previews.empty())
        showPreview(QString::fromStdString(run_.previews.back().second), run_.previews.back().first);
    refreshCheckpoints();
    data_->setText(QString::fromStdString(run_.data_dir));
    status_->setText(run_.finished ? tr("A finished run: %1, %2 steps.").arg(QString::fromStdString(run_.arch)).arg(run_.steps)
                                   : tr("A run stopped at step %1 of %2: Resume continues it.").arg(run_.step_reached).arg(run_.steps));
    setState(run_.finished ? State::Idle : State::Paused);
    return true;
}

bool FinetunePanel::useInEditor(int row)
{
    if (row < 0 || row >= checkpoints_->rowCount())
        return false;
    const QString path = checkpoints_->item(row, 2)->data(Qt::UserRole).toString();
    if (path.isEmpty())
        return false;
    Q_EMIT useCheckpoint(path);
    return true;
}

int FinetunePanel::chartPoints() const { return losses_->pointCount(); }

void FinetunePanel::onTick(const live::TrainTick& t)
{
    lastStep_ = t.step;
    losses_->append(0, t.step, t.g_l1);
    losses_->append(1, t.step, t.g_gan);
    losses_->append(2, t.step, t.d_real);
    losses_->append(3, t.step, t.d_fake);
    if (t.val_l1 >= 0)
        validation_->append(0, t.step, t.val_l1);
    // Text and bar at most ten times a second: fast steps must not flood the GUI thread.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - lastUiUpdate_ < 100 && t.step != t.total)
        return;
    lastUiUpdate_ = now;
    progress_->setRange(0, t.total);
    progress_->setValue(t.step);
    if (state_ == State::Training)
        status_->setText(tr("Step %1 of %2 · %3 it/s · ETA %4").arg(t.step).arg(t.total).arg(t.steps_per_s, 0, 'f', 2).arg(duration(t.eta_s)));
}

void FinetunePanel::showPreview(const QString& png, int step)
{
    const QPixmap pix(png);
    if (pix.isNull())
        return;
    sample_->setPixmap(pix);
    sample_->setToolTip(tr("Step %1: input | guide | output | target").arg(step));
    Q_EMIT previewShown(step);
}

void FinetunePanel::refreshCheckpoints()
{
    const QString dir = runDir_->text();
    if (dir.isEmpty() || !QFileInfo::exists(dir + QStringLiteral("/config.json")))
        return;
    try {
        const live::RunInfo info = live::read_run(dir.toStdString());
        run_.checkpoints = info.checkpoints;
    } catch (const std::exception&) {
        return; // mid-write; the next refresh will see it
    }
    checkpoints_->setRowCount(0);
    for (const live::RunCheckpoint& c : run_.checkpoints) {
        const int row = checkpoints_->rowCount();
        checkpoints_->insertRow(row);
        checkpoints_->setItem(row, 0, new QTableWidgetItem(QString::number(c.step)));
        checkpoints_->setItem(row, 1, new QTableWidgetItem(c.val_l1 >= 0 ? QString::number(c.val_l1, 'f', 4) : QStringLiteral("–")));
        const QString path = QString::fromStdString(c.path);
        auto* file = new QTableWidgetItem(path.endsWith(QStringLiteral("best_net_G.pth")) ? tr("best (by val L1)") : QFileInfo(path).dir().dirName());
        file->setData(Qt::UserRole, path);
        file->setToolTip(path);
        checkpoints_->setItem(row, 2, file);
    }
}

void FinetunePanel::setState(State s)
{
    state_ = s;
    const bool idle = s == State::Idle;
    startButton_->setEnabled(idle && datasetOk_);
    pauseButton_->setEnabled(s == State::Training);
    resumeButton_->setEnabled(s == State::Paused);
    stopButton_->setEnabled(s == State::Training || s == State::Paused || s == State::Pausing);
    for (QWidget* w : dataButtons_)
        w->setEnabled(idle || s == State::Checking);
    for (QWidget* w : std::initializer_list<QWidget*>{data_, base_, steps_, batch_, lr_, l1_, gan_, flip_, valEvery_, previewEvery_,
                                                      checkpointEvery_, device_, processes_})
        w->setEnabled(idle || s == State::Checking);
    ngf_->setEnabled(idle && (base_->currentData().toInt() == ScratchBft || base_->currentData().toInt() == ScratchUft));
    Q_EMIT stateChanged(s);
}

} // namespace bft::studio
