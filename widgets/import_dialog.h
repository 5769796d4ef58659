// "Import a dataset…" from the fine-tuning panel's dataset picker: the paper's datasets in the
// layouts they are distributed in (DeepFashion/Market pose pairs, NYU Depth v2 .mat, TextureGAN
// folders, pix2pix A|B pairs, RGB-D frames) into a dataset folder, on a worker thread with a
// progress bar and a Stop button (running it again resumes); the report lists every skipped file.
#pragma once

#include <QDialog>
#include <QString>

#include <atomic>
#include <memory>
#include <thread>

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace bft::studio {

class ImportDialog : public QDialog {
    Q_OBJECT
public:
    explicit ImportDialog(QWidget* parent = nullptr);
    ~ImportDialog() override;
    QString destination() const; // the dataset folder, once an import finished
    bool succeeded() const { return succeeded_; }

    // For tests: fill in and run as the buttons would.
    void setRequest(const QString& format, const QString& source, const QString& destination);
    void startImport();

Q_SIGNALS:
    void importFinished(bool ok);

private:
    void updateOptions();
    QComboBox* format_;
    QLineEdit* source_;
    QLineEdit* destination_;
    QSpinBox* factor_;
    QDoubleSpinBox* depthScale_;
    QComboBox* task_;
    QLineEdit* guides_;
    QLineEdit* nyuSplits_;
    QLineEdit* nyuInputs_;
    QProgressBar* progress_;
    QPlainTextEdit* report_;
    QPushButton* run_;
    QPushButton* stop_;
    QDialogButtonBox* buttons_;
    std::shared_ptr<std::atomic<bool>> stopFlag_;
    bool running_ = false, succeeded_ = false;
    std::thread thread_;
};

} // namespace bft::studio
