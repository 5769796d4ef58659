// bFT Studio's main window: the guide view (with the task's tool) beside the result view, the
// task panels, the gamma/beta viewer, menus and toolbar, and the session file with autosave and
// crash recovery. The window only composes: the document holds state, the live session runs the
// network in its worker thread, tools and panels edit.
#pragma once

#include "document.h"
#include "live_session.h"

#include <QMainWindow>
#include <QPointer>

class QAction;
class QActionGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QMessageBox;
class QMenu;
class QProgressBar;
class QSlider;
class QSpinBox;
class QStackedWidget;
class QTimer;

namespace bft::studio {

class CanvasView;
class CompareItem;
class DepthPanel;
class DepthTool;
class FilmViewer;
class FinetunePanel;
class PosePanel;
class PoseTool;
class TexturePanel;
class TextureTool;

// Where the demo models and samples are: $BFT_STUDIO_DATA, <exe>/../share/bft-studio, or the
// source tree's resources/ (for runs from the build folder).
QString dataDirectory();

struct StartOptions {
    bool restoreAutosave = true; // ask to recover a session that did not end cleanly
    QString autosavePath;        // empty: the platform's app-data folder
    QString language;            // empty: the system's
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const StartOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    Document* document() const { return doc_; }
    LiveSession* session() const { return session_; }
    CanvasView* guideView() const { return guideView_; }
    CanvasView* resultView() const { return resultView_; }
    FilmViewer* filmViewer() const { return film_; }
    FinetunePanel* finetunePanel() const { return finetune_; }
    PoseTool* poseTool() const { return poseTool_; }

    // Each returns false and shows the error (window stays usable) on failure.
    bool openImage(const QString& path);
    bool openCheckpoint(const QString& path);
    bool openProject(const QString& path);
    bool saveProject(const QString& path);
    bool openSample(Task task, const QString& sampleId);
    bool saveResult(const QString& path);
    void setTask(Task task);
    QStringList sampleIds(Task task) const;
    QString demoModel(Task task) const; // empty when none is installed
    void autosaveNow();

Q_SIGNALS:
    void errorShown(const QString& message); // also in a dialog and the status bar

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildActions();
    void buildToolbar();
    void buildDocks();
    void showError(const QString& message);
    void showResult(const ResultPtr& result, bool preview);
    void refreshGuideView();
    void refreshModelList();
    void refreshTitle();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void openAny(const QString& path);
    void switchLanguage(const QString& locale);
    void loadDefaultModel();
    bool confirmDiscard();

    StartOptions options_;
    Document* doc_;
    LiveSession* session_;
    CanvasView* guideView_;
    CanvasView* resultView_;
    CompareItem* compare_;
    FilmViewer* film_;
    FinetunePanel* finetune_;
    PoseTool* poseTool_;
    DepthTool* depthTool_;
    TextureTool* textureTool_;
    PosePanel* posePanel_;
    DepthPanel* depthPanel_;
    TexturePanel* texturePanel_;
    QStackedWidget* panels_;
    QString projectPath_;
    bool applyNativeSize_ = false;
    quint64 shownSketch_ = 0;
    // Changes to the document, counted (a drag merges into one undo step but changes it many times):
    // the autosave runs when there are some it does not hold.
    quint64 revision_ = 0, autosavedRevision_ = 0;
    QPointer<QMessageBox> openError_;

    QComboBox* taskBox_;
    QComboBox* modelBox_;
    QComboBox* deviceBox_;
    QSpinBox* threadsBox_;
    QComboBox* fullSizeBox_;
    QComboBox* previewSizeBox_;
    QCheckBox* bf16Box_;
    QComboBox* compareBox_;
    QSlider* compareAmount_;
    QLabel* modelLabel_;
    QLabel* deviceLabel_;
    QLabel* latencyLabel_;
    QProgressBar* busy_;
    QMenu* recentMenu_;
    QMenu* sampleMenu_;
    QTimer* autosave_;
};

} // namespace bft::studio
