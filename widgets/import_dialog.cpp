#include "import_dialog.h"

#include "live_training.h"
#include "runtime.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <exception>
#include <thread>

namespace bft::studio {

ImportDialog::ImportDialog(QWidget* parent) : QDialog(parent), stopFlag_(std::make_shared<std::atomic<bool>>(false))
{
    setWindowTitle(tr("Import a dataset"));
    format_ = new QComboBox;
    format_->addItem(tr("DeepFashion / Market-1501 pose pairs (Pose-Transfer layout)"), QStringLiteral("pose-pairs"));
    format_->addItem(tr("NYU Depth v2 (nyu_depth_v2_labeled.mat)"), QStringLiteral("nyu"));
    format_->addItem(tr("TextureGAN folders ({train,val}_{img,skg,seg})"), QStringLiteral("texturegan"));
    format_->addItem(tr("pix2pix aligned A|B pairs"), QStringLiteral("pix2pix"));
    format_->addItem(tr("RGB-D frames (colour + 16-bit depth PNGs)"), QStringLiteral("rgbd"));
    source_ = new QLineEdit;
    destination_ = new QLineEdit;
    auto* browseSource = new QPushButton(tr("…"));
    auto* browseDestination = new QPushButton(tr("…"));
    factor_ = new QSpinBox;
    factor_->setRange(4, 16);
    factor_->setSingleStep(4);
    factor_->setValue(8);
    factor_->setToolTip(tr("The low-resolution input is the depth reduced by this factor (4, 8 or 16)"));
    depthScale_ = new QDoubleSpinBox;
    depthScale_->setRange(1, 100000);
    depthScale_->setValue(1000);
    depthScale_->setToolTip(tr("Depth units per metre in the PNGs: 1000 for millimetres, 5000 for TUM RGB-D"));
    task_ = new QComboBox;
    task_->addItem(tr("Texture transfer"), QStringLiteral("texture"));
    task_->addItem(tr("Pose transfer"), QStringLiteral("pose"));
    guides_ = new QLineEdit;
    guides_->setPlaceholderText(tr("folder of guides by name (needed for pose)"));
    nyuSplits_ = new QLineEdit;
    nyuSplits_->setPlaceholderText(tr("splits.mat for the official 795/654 split (else first 1000 / last 449)"));
    nyuInputs_ = new QLineEdit;
    nyuInputs_->setPlaceholderText(tr("folder of the authors' input_<F>x_{train,test}.mat (else made here)"));
    progress_ = new QProgressBar;
    progress_->setRange(0, 1);
    progress_->setValue(0);
    report_ = new QPlainTextEdit;
    report_->setReadOnly(true);
    report_->setMinimumHeight(120);
    run_ = new QPushButton(tr("Import"));
    stop_ = new QPushButton(tr("Stop"));
    stop_->setEnabled(false);
    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Use this dataset"));
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);

    auto* form = new QFormLayout;
    form->addRow(tr("Format"), format_);
    auto* srcRow = new QHBoxLayout;
    srcRow->addWidget(source_, 1);
    srcRow->addWidget(browseSource);
    form->addRow(tr("From"), srcRow);
    auto* dstRow = new QHBoxLayout;
    dstRow->addWidget(destination_, 1);
    dstRow->addWidget(browseDestination);
    form->addRow(tr("Into"), dstRow);
    form->addRow(tr("Depth factor"), factor_);
    form->addRow(tr("Depth scale"), depthScale_);
    form->addRow(tr("Task"), task_);
    form->addRow(tr("Guides"), guides_);
    form->addRow(tr("NYU split"), nyuSplits_);
    form->addRow(tr("NYU inputs"), nyuInputs_);
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(progress_, 1);
    runRow->addWidget(run_);
    runRow->addWidget(stop_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(runRow);
    layout->addWidget(report_, 1);
    layout->addWidget(buttons_);
    resize(620, 460);

    connect(format_, &QComboBox::currentIndexChanged, this, &ImportDialog::updateOptions);
    connect(browseSource, &QPushButton::clicked, this, [this] {
        const bool file = format_->currentData().toString() == QStringLiteral("nyu");
        const QString path = file ? QFileDialog::getOpenFileName(this, tr("NYU Depth v2 file"), QString(), tr("MATLAB files (*.mat)"))
                                  : QFileDialog::getExistingDirectory(this, tr("Source folder"));
        if (!path.isEmpty())
            source_->setText(path);
    });
    connect(browseDestination, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Where the dataset goes"));
        if (!path.isEmpty())
            destination_->setText(path);
    });
    connect(run_, &QPushButton::clicked, this, &ImportDialog::startImport);
    connect(stop_, &QPushButton::clicked, this, [this] { *stopFlag_ = true; });
    connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, [this] {
        *stopFlag_ = true; // an import in flight stops; what it wrote stays for a resume
        reject();
    });
    updateOptions();
}

ImportDialog::~ImportDialog()
{
    *stopFlag_ = true; // the import stops at its next sample; what it wrote stays for a resume
    if (thread_.joinable())
        thread_.join();
}

QString ImportDialog::destination() const { return destination_->text(); }

void ImportDialog::setRequest(const QString& format, const QString& source, const QString& destination)
{
    format_->setCurrentIndex(std::max(0, format_->findData(format)));
    source_->setText(source);
    destination_->setText(destination);
}

void ImportDialog::updateOptions()
{
    const QString f = format_->currentData().toString();
    factor_->setEnabled(f == QStringLiteral("nyu") || f == QStringLiteral("rgbd"));
    depthScale_->setEnabled(f == QStringLiteral("rgbd"));
    task_->setEnabled(f == QStringLiteral("pix2pix"));
    guides_->setEnabled(f == QStringLiteral("pix2pix"));
    nyuSplits_->setEnabled(f == QStringLiteral("nyu"));
    nyuInputs_->setEnabled(f == QStringLiteral("nyu"));
}

void ImportDialog::startImport()
{
    if (running_)
        return;
    if (source_->text().isEmpty() || destination_->text().isEmpty()) {
        report_->setPlainText(tr("Choose where to import from and into."));
        return;
    }
    live::ImportRequest rq;
    rq.format = format_->currentData().toString().toStdString();
    rq.source = source_->text().toStdString();
    rq.destination = destination_->text().toStdString();
    rq.factor = factor_->value();
    rq.depth_scale = static_cast<float>(depthScale_->value());
    rq.task = task_->currentData().toString().toStdString();
    rq.guides = guides_->text().toStdString();
    rq.splits_file = nyuSplits_->text().toStdString();
    rq.inputs_dir = nyuInputs_->text().toStdString();
    running_ = true;
    succeeded_ = false;
    *stopFlag_ = false;
    run_->setEnabled(false);
    stop_->setEnabled(true);
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);
    report_->setPlainText(tr("Importing…"));
    QPointer<ImportDialog> self(this);
    auto stop = stopFlag_;
    if (thread_.joinable())
        thread_.join(); // the previous import has reported its end already
    thread_ = std::thread([self, rq, stop] {
        bft::block_async_signals(); // a computing thread (runtime.h)
        QString text;
        bool ok = false, stopped = false;
        try {
            const live::ImportSummary s = live::import_dataset(rq, [self, stop](int done, int total) {
                if (done % 16 != 0 && done + 1 != total)
                    return !stop->load(); // a bar update per 16 samples is plenty
                QMetaObject::invokeMethod(qApp, [self, done, total] {
                    if (self) {
                        self->progress_->setRange(0, total);
                        self->progress_->setValue(done + 1);
                    }
                });
                return !stop->load();
            });
            text = QString::fromStdString(s.text);
            stopped = s.stopped;
            ok = !stopped;
        } catch (const std::exception& e) {
            text = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(qApp, [self, text, ok, stopped] {
            if (!self)
                return;
            self->running_ = false;
            self->succeeded_ = ok;
            self->run_->setEnabled(true);
            self->run_->setText(stopped ? tr("Resume") : tr("Import"));
            self->stop_->setEnabled(false);
            self->report_->setPlainText(text + (stopped ? tr("\nStopped: Resume goes on where it stopped.") : QString()));
            self->buttons_->button(QDialogButtonBox::Ok)->setEnabled(ok);
            Q_EMIT self->importFinished(ok);
        });
    });
}

} // namespace bft::studio
