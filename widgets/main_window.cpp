#include "main_window.h"

#include "canvas.h"
#include "colormap.h"
#include "film_viewer.h"
#include "finetune_panel.h"
#include "guide_commands.h"
#include "guide_panels.h"
#include "guide_tools.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QProgressBar>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>

#include <exception>

namespace bft::studio {

namespace {

const Task kTasks[] = {Task::Pose, Task::Texture, Task::Depth};

QString taskTitle(Task t)
{
    switch (t) {
    case Task::Pose: return MainWindow::tr("Pose transfer");
    case Task::Texture: return MainWindow::tr("Texture transfer");
    case Task::Depth: return MainWindow::tr("Depth upsampling");
    }
    return {};
}

bool isImageFile(const QString& path)
{
    static const QStringList ext = {QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("bmp"),
                                    QStringLiteral("tif"), QStringLiteral("tiff"), QStringLiteral("webp")};
    return ext.contains(QFileInfo(path).suffix().toLower());
}

// Depth for people: the same colour map and range as the guide's grid and its legend.
QImage depthPicture(const live::Raster& metres, const live::DepthRange& r)
{
    return colorize(metres.values.data(), metres.width, metres.height, r.near_m, r.far_m);
}

} // namespace

QString dataDirectory()
{
    const QString env = qEnvironmentVariable("BFT_STUDIO_DATA");
    if (!env.isEmpty())
        return env;
    // Beside the program: <prefix>/share/bft-studio installed, a link to resources/ in the build tree.
    return QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/bft-studio"));
}

MainWindow::MainWindow(const StartOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options), doc_(new Document(this)), session_(new LiveSession(doc_, this))
{
    setWindowIcon(QIcon(QStringLiteral(":/icons/bft-studio.svg")));
    setAcceptDrops(true);
    // Most of the screen: three image-sized areas and two panels want room.
    const QSize avail = screen() ? screen()->availableGeometry().size() : QSize(1360, 820);
    resize(std::max(std::min(avail.width(), 1360), static_cast<int>(avail.width() * 0.92)),
           std::max(std::min(avail.height(), 820), static_cast<int>(avail.height() * 0.92)));

    guideView_ = new CanvasView;
    resultView_ = new CanvasView;
    compare_ = new CompareItem;
    resultView_->scene()->addItem(compare_);
    CanvasView::link(guideView_, resultView_);

    poseTool_ = new PoseTool(doc_, this);
    depthTool_ = new DepthTool(doc_, this);
    textureTool_ = new TextureTool(doc_, this);
    for (GuideTool* t : std::initializer_list<GuideTool*>{poseTool_, depthTool_, textureTool_}) {
        connect(t, &GuideTool::dragStarted, this, [this] { session_->setDragging(true); });
        connect(t, &GuideTool::dragFinished, this, [this] { session_->setDragging(false); });
    }

    // Centre: guide | result, each with a caption; the compare controls sit over the result.
    auto* guideBox = new QWidget;
    auto* gl = new QVBoxLayout(guideBox);
    gl->setContentsMargins(2, 2, 2, 2);
    auto* guideCaption = new QLabel(tr("Guide"));
    guideCaption->setStyleSheet(QStringLiteral("font-weight: bold"));
    gl->addWidget(guideCaption);
    gl->addWidget(guideView_, 1);
    auto* resultBox = new QWidget;
    auto* rl = new QVBoxLayout(resultBox);
    rl->setContentsMargins(2, 2, 2, 2);
    auto* head = new QHBoxLayout;
    auto* resultCaption = new QLabel(tr("Result"));
    resultCaption->setStyleSheet(QStringLiteral("font-weight: bold"));
    head->addWidget(resultCaption);
    head->addStretch(1);
    compareBox_ = new QComboBox;
    compareBox_->addItem(tr("Result"), CompareItem::ResultOnly);
    compareBox_->addItem(tr("Wipe source | result"), CompareItem::Wipe);
    compareBox_->addItem(tr("Overlay on source"), CompareItem::Overlay);
    compareAmount_ = new QSlider(Qt::Horizontal);
    compareAmount_->setRange(0, 100);
    compareAmount_->setValue(50);
    compareAmount_->setMaximumWidth(140);
    compareAmount_->setEnabled(false);
    head->addWidget(new QLabel(tr("Compare:")));
    head->addWidget(compareBox_);
    head->addWidget(compareAmount_);
    rl->addLayout(head);
    rl->addWidget(resultView_, 1);
    auto* split = new QSplitter;
    split->addWidget(guideBox);
    split->addWidget(resultBox);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({500, 500}); // guide and result equally wide
    setCentralWidget(split);
    connect(compareBox_, &QComboBox::currentIndexChanged, this, [this] {
        const auto mode = static_cast<CompareItem::Mode>(compareBox_->currentData().toInt());
        compare_->setMode(mode);
        compareAmount_->setEnabled(mode != CompareItem::ResultOnly);
    });
    connect(compareAmount_, &QSlider::valueChanged, this, [this](int v) { compare_->setAmount(v / 100.0); });

    posePanel_ = new PosePanel(doc_, poseTool_);
    depthPanel_ = new DepthPanel(doc_, depthTool_);
    texturePanel_ = new TexturePanel(doc_, textureTool_);
    auto status = [this](const QString& m) { statusBar()->showMessage(m, 8000); };
    connect(posePanel_, &PosePanel::message, this, status);
    connect(depthPanel_, &DepthPanel::message, this, status);
    connect(texturePanel_, &TexturePanel::message, this, status);

    // Status bar: model, device, latency, and a busy indicator while work is in flight.
    modelLabel_ = new QLabel;
    deviceLabel_ = new QLabel;
    latencyLabel_ = new QLabel;
    busy_ = new QProgressBar;
    busy_->setRange(0, 0);
    busy_->setMaximumWidth(90);
    busy_->setMaximumHeight(14);
    busy_->setVisible(false);
    busy_->setToolTip(tr("The model is running"));
    statusBar()->addPermanentWidget(modelLabel_);
    statusBar()->addPermanentWidget(deviceLabel_);
    statusBar()->addPermanentWidget(latencyLabel_);
    statusBar()->addPermanentWidget(busy_);

    buildDocks();
    buildActions();
    buildToolbar();

    connect(session_, &LiveSession::resultShown, this, &MainWindow::showResult);
    connect(session_, &LiveSession::busyChanged, busy_, &QWidget::setVisible);
    connect(session_, &LiveSession::error, this, &MainWindow::showError);
    connect(session_, &LiveSession::modelLoaded, this, [this](const QString&, int nativeSize) {
        // The model card says which size it was trained at: run there when the person picked it
        // (a project's own settings stay).
        if (applyNativeSize_ && nativeSize > 0) {
            Settings s = doc_->settings();
            s.fullSize = nativeSize;
            s.previewSize = std::min(nativeSize, 128);
            doc_->setSettings(s);
        }
        applyNativeSize_ = false;
    });
    connect(session_, &LiveSession::modelChanged, this, [this](bool ready, const QString& description) {
        refreshModelList();
        // The demo model by the name the model box gives it, others by their file.
        const QString path = doc_->modelPath();
        const QString name = !path.isEmpty() && path == demoModel(doc_->task())
                                 ? tr("Demo model (%1)").arg(QString::fromLatin1(live::task_name(doc_->task())))
                                 : QFileInfo(path).fileName();
        modelLabel_->setText(ready ? tr("Model: %1").arg(name) : description);
        modelLabel_->setToolTip(description);
    });
    connect(session_, &LiveSession::deviceChanged, this, [this](const QString& d) {
        deviceLabel_->setText(tr("Device: %1").arg(d));
        bf16Box_->setToolTip(session_->bf16Available() ? tr("Drags render in bfloat16: about twice as fast, slightly less exact")
                                                       : tr("This device has no fast bfloat16: drags render in fp32"));
        bf16Box_->setEnabled(session_->bf16Available()); // a choice that does nothing here is not offered,
        const QSignalBlocker b(bf16Box_);                // nor shown ticked
        bf16Box_->setChecked(session_->bf16Available() && doc_->settings().previewBf16);
    });
    connect(doc_, &Document::sourceChanged, this, &MainWindow::refreshGuideView);
    connect(doc_, &Document::taskChanged, this, &MainWindow::refreshGuideView);
    connect(doc_, &Document::guideChanged, this, [this] {
        // Only a new sketch changes the background (patch drags do not).
        if (doc_->task() == Task::Texture && doc_->sketchGeneration() != shownSketch_) {
            shownSketch_ = doc_->sketchGeneration();
            guideView_->setBackground(doc_->sketchImage());
        }
    });
    connect(doc_->undoStack(), &QUndoStack::cleanChanged, this, &MainWindow::refreshTitle);
    connect(doc_, &Document::modelPathChanged, this, &MainWindow::refreshModelList);

    for (auto changed : {&Document::taskChanged, &Document::sourceChanged, &Document::guideChanged, &Document::modelPathChanged,
                         &Document::settingsChanged})
        connect(doc_, changed, this, [this] { ++revision_; });
    autosave_ = new QTimer(this);
    autosave_->setInterval(15000);
    connect(autosave_, &QTimer::timeout, this, &MainWindow::autosaveNow);
    autosave_->start();
    if (options_.autosavePath.isEmpty()) {
        const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        QDir().mkpath(dir);
        options_.autosavePath = dir + QStringLiteral("/autosave.bftproj");
    }

    session_->applyDevice();
    refreshGuideView();
    refreshTitle();

    // Recover a session that did not end cleanly, else start on a demo sample.
    bool recovered = false;
    if (options_.restoreAutosave && QFileInfo::exists(options_.autosavePath)) {
        const auto answer = QMessageBox::question(nullptr, tr("Recover session"),
                                                  tr("bFT Studio did not close cleanly last time. Recover the unsaved session?"),
                                                  QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
        if (answer == QMessageBox::Yes)
            recovered = openProject(options_.autosavePath);
        if (recovered) {
            projectPath_.clear();
            doc_->undoStack()->resetClean(); // recovered work is unsaved work
            refreshTitle();
        }
    }
    if (!recovered) {
        const QStringList ids = sampleIds(Task::Pose);
        if (!ids.isEmpty())
            openSample(Task::Pose, ids.first());
        loadDefaultModel();
    }
}

MainWindow::~MainWindow()
{
    // The document is the first child, so Qt would delete it before the docks and the session,
    // which still use it while they stop their threads: take them down first.
    delete finetune_;
    delete session_;
}

void MainWindow::buildDocks()
{
    panels_ = new QStackedWidget;
    panels_->addWidget(posePanel_);
    panels_->addWidget(texturePanel_);
    panels_->addWidget(depthPanel_);
    auto* guideDock = new QDockWidget(tr("Guide editor"), this);
    guideDock->setObjectName(QStringLiteral("guideDock"));
    guideDock->setWidget(panels_);
    guideDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, guideDock);

    film_ = new FilmViewer;
    auto* filmDock = new QDockWidget(tr("γ/β maps"), this);
    filmDock->setObjectName(QStringLiteral("filmDock"));
    filmDock->setWidget(film_);
    addDockWidget(Qt::RightDockWidgetArea, filmDock);
    finetune_ = new FinetunePanel(doc_);
    auto* tuneDock = new QDockWidget(tr("Fine-tuning"), this);
    tuneDock->setObjectName(QStringLiteral("finetuneDock"));
    tuneDock->setWidget(finetune_);
    addDockWidget(Qt::RightDockWidgetArea, tuneDock);
    tabifyDockWidget(filmDock, tuneDock);
    filmDock->raise();
    connect(finetune_, &FinetunePanel::useCheckpoint, this, [this](const QString& path) { openCheckpoint(path); });
    connect(finetune_, &FinetunePanel::message, statusBar(), [this](const QString& m) { statusBar()->showMessage(m, 8000); });
    // The images get most of the width; the panels what they need.
    resizeDocks({guideDock, filmDock}, {250, 360}, Qt::Horizontal);
    connect(film_, &FilmViewer::message, statusBar(), [this](const QString& m) { statusBar()->showMessage(m, 5000); });
}

void MainWindow::buildActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open Image…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open image"), QString(),
                                                          tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)"));
        if (!path.isEmpty() && confirmDiscard())
            openImage(path);
    });
    sampleMenu_ = file->addMenu(tr("Open &Sample"));
    connect(sampleMenu_, &QMenu::aboutToShow, this, [this] {
        sampleMenu_->clear();
        for (Task t : kTasks) {
            QMenu* sub = sampleMenu_->addMenu(taskTitle(t));
            const QStringList ids = sampleIds(t);
            if (ids.isEmpty())
                sub->addAction(tr("(none installed)"))->setEnabled(false);
            for (const QString& id : ids)
                sub->addAction(tr("Sample %1").arg(id), this, [this, t, id] {
                    if (confirmDiscard())
                        openSample(t, id);
                });
        }
    });
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("Open &Project…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(), tr("bFT Studio projects (*.bftproj)"));
        if (!path.isEmpty() && confirmDiscard())
            openProject(path);
    });
    file->addAction(tr("&Save Project"), QKeySequence::Save, this, [this] {
        QString path = projectPath_;
        if (path.isEmpty())
            path = QFileDialog::getSaveFileName(this, tr("Save project"), QStringLiteral("untitled.bftproj"), tr("bFT Studio projects (*.bftproj)"));
        if (!path.isEmpty())
            saveProject(path);
    });
    file->addAction(tr("Save Project &As…"), QKeySequence::SaveAs, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save project"), QStringLiteral("untitled.bftproj"), tr("bFT Studio projects (*.bftproj)"));
        if (!path.isEmpty())
            saveProject(path);
    });
    file->addSeparator();
    file->addAction(tr("Save &Result…"), QKeySequence(tr("Ctrl+E")), this, [this] {
        const bool depth = doc_->task() == Task::Depth;
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save result"), depth ? QStringLiteral("result-depth.png") : QStringLiteral("result.png"),
            depth ? tr("16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)") : tr("PNG image (*.png);;JPEG image (*.jpg)"));
        if (!path.isEmpty())
            saveResult(path);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = doc_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = doc_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* model = menuBar()->addMenu(tr("&Model"));
    model->addAction(tr("Open &Checkpoint…"), QKeySequence(tr("Ctrl+M")), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open checkpoint"), QString(), tr("PyTorch checkpoints (*.pth *.pt)"));
        if (!path.isEmpty())
            openCheckpoint(path);
    });
    model->addSeparator();
    // Winograd's transformed weights are 4x the 3x3 layers' own: about 500 MiB more for a full-size
    // ResNet. A machine short of memory trades them for time.
    QAction* lowMemory = model->addAction(tr("Use &Less Memory"));
    lowMemory->setCheckable(true);
    lowMemory->setStatusTip(tr("Runs every convolution directly and lets go of the transformed weights of the fast "
                               "3×3 layers: about half a gigabyte less for a full-size ResNet generator, each result taking about 1.5× as long"));
    connect(lowMemory, &QAction::toggled, this, [this](bool on) {
        Settings s = doc_->settings();
        s.lowMemory = on;
        doc_->setSettings(s);
    });
    auto showLowMemory = [this, lowMemory] {
        const QSignalBlocker b(lowMemory);
        lowMemory->setChecked(doc_->settings().lowMemory);
    };
    connect(doc_, &Document::settingsChanged, lowMemory, showLowMemory);
    showLowMemory();

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("&Fit to Window"), QKeySequence(tr("Ctrl+0")), this, [this] { guideView_->fitToWindow(); });
    view->addSeparator();
    QMenu* lang = view->addMenu(tr("&Language"));
    auto* group = new QActionGroup(this);
    const QString current = QSettings().value(QStringLiteral("language")).toString();
    const std::pair<QString, QString> langs[] = {{QString(), tr("System default")},
                                                 {QStringLiteral("en"), QStringLiteral("English")},
                                                 {QStringLiteral("zh_TW"), QStringLiteral("繁體中文")}};
    for (const auto& [code, name] : langs) {
        QAction* a = lang->addAction(name);
        a->setCheckable(true);
        a->setChecked(code == current);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, code = code] { switchLanguage(code); });
    }

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About bFT Studio"), this, [this] {
        QMessageBox::about(this, tr("About bFT Studio"),
                           tr("<b>bFT Studio</b> %1<br>Guided image-to-image translation with bi-directional feature "
                              "transformation (AlBahar &amp; Huang, ICCV 2019).<br>Loads the authors' checkpoints unchanged.")
                               .arg(QCoreApplication::applicationVersion()));
    });
}

void MainWindow::buildToolbar()
{
    QToolBar* bar = addToolBar(tr("Settings"));
    bar->setObjectName(QStringLiteral("settingsBar"));
    bar->setMovable(false);
    taskBox_ = new QComboBox;
    for (Task t : kTasks)
        taskBox_->addItem(taskTitle(t), static_cast<int>(t));
    bar->addWidget(new QLabel(tr(" Task ")));
    bar->addWidget(taskBox_);
    connect(taskBox_, &QComboBox::activated, this, [this] {
        const auto t = static_cast<Task>(taskBox_->currentData().toInt());
        if (t != doc_->task() && confirmDiscard())
            setTask(t);
        else
            taskBox_->setCurrentIndex(taskBox_->findData(static_cast<int>(doc_->task())));
    });

    modelBox_ = new QComboBox;
    modelBox_->setMinimumContentsLength(18);
    modelBox_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    bar->addWidget(new QLabel(tr(" Model ")));
    bar->addWidget(modelBox_);
    connect(modelBox_, &QComboBox::activated, this, [this](int i) {
        const QString path = modelBox_->itemData(i).toString();
        if (path.isEmpty()) { // "Open checkpoint…"
            const QString chosen = QFileDialog::getOpenFileName(this, tr("Open checkpoint"), QString(), tr("PyTorch checkpoints (*.pth *.pt)"));
            if (chosen.isEmpty() || !openCheckpoint(chosen))
                refreshModelList();
            return;
        }
        openCheckpoint(path);
    });

    deviceBox_ = new QComboBox;
    for (const std::string& d : live::devices())
        deviceBox_->addItem(QString::fromStdString(d), QString::fromStdString(d));
    bar->addWidget(new QLabel(tr(" Device ")));
    bar->addWidget(deviceBox_);
    threadsBox_ = new QSpinBox;
    threadsBox_->setRange(0, 256);
    threadsBox_->setSpecialValueText(tr("all cores"));
    threadsBox_->setToolTip(tr("CPU threads for the network (0: all %1 cores)").arg(live::hardware_threads()));
    bar->addWidget(new QLabel(tr(" Threads ")));
    bar->addWidget(threadsBox_);
    auto applyDevice = [this] {
        Settings s = doc_->settings();
        s.device = deviceBox_->currentData().toString();
        s.threads = threadsBox_->value();
        doc_->setSettings(s);
        session_->applyDevice();
    };
    connect(deviceBox_, &QComboBox::activated, this, applyDevice);
    connect(threadsBox_, &QSpinBox::editingFinished, this, applyDevice);

    fullSizeBox_ = new QComboBox;
    previewSizeBox_ = new QComboBox;
    for (int s : {64, 128, 256, 384, 512, 768, 1024}) {
        fullSizeBox_->addItem(tr("%1 px").arg(s), s);
        previewSizeBox_->addItem(tr("%1 px").arg(s), s);
    }
    fullSizeBox_->setToolTip(tr("Long side of the result when the guide rests"));
    previewSizeBox_->setToolTip(tr("Long side of the preview while you drag"));
    bar->addWidget(new QLabel(tr(" Result ")));
    bar->addWidget(fullSizeBox_);
    bar->addWidget(new QLabel(tr(" Preview ")));
    bar->addWidget(previewSizeBox_);
    bf16Box_ = new QCheckBox(tr("Fast preview (bf16)"));
    bar->addWidget(bf16Box_);
    auto applySizes = [this] {
        Settings s = doc_->settings();
        s.fullSize = fullSizeBox_->currentData().toInt();
        s.previewSize = previewSizeBox_->currentData().toInt();
        if (bf16Box_->isEnabled()) // a box shown unticked because bf16 does not pay here keeps the choice
            s.previewBf16 = bf16Box_->isChecked();
        doc_->setSettings(s);
    };
    connect(fullSizeBox_, &QComboBox::activated, this, applySizes);
    connect(previewSizeBox_, &QComboBox::activated, this, applySizes);
    connect(bf16Box_, &QCheckBox::toggled, this, applySizes);
    auto showSettings = [this] {
        const Settings& s = doc_->settings();
        const QSignalBlocker b(bf16Box_);
        fullSizeBox_->setCurrentIndex(std::max(0, fullSizeBox_->findData(s.fullSize)));
        previewSizeBox_->setCurrentIndex(std::max(0, previewSizeBox_->findData(s.previewSize)));
        bf16Box_->setChecked(s.previewBf16 && bf16Box_->isEnabled());
        deviceBox_->setCurrentIndex(std::max(0, deviceBox_->findData(s.device)));
        threadsBox_->setValue(s.threads);
    };
    connect(doc_, &Document::settingsChanged, this, showSettings);
    showSettings();
}

QStringList MainWindow::sampleIds(Task task) const
{
    QDir dir(dataDirectory() + QStringLiteral("/samples/") + QString::fromLatin1(live::task_name(task)) + QStringLiteral("/val/input"));
    QStringList ids;
    for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name))
        ids << f.completeBaseName();
    return ids;
}

QString MainWindow::demoModel(Task task) const
{
    const QString path = dataDirectory() + QStringLiteral("/models/") + QString::fromLatin1(live::task_name(task)) + QStringLiteral(".pth");
    return QFileInfo::exists(path) ? QFileInfo(path).absoluteFilePath() : QString();
}

void MainWindow::loadDefaultModel()
{
    const QString demo = demoModel(doc_->task());
    if (demo.isEmpty()) {
        modelLabel_->setText(tr("No model: open a checkpoint (Model menu)"));
        refreshModelList();
        return;
    }
    openCheckpoint(demo);
}

void MainWindow::refreshModelList()
{
    const QSignalBlocker block(modelBox_);
    modelBox_->clear();
    const QString demo = demoModel(doc_->task());
    if (!demo.isEmpty())
        modelBox_->addItem(tr("Demo model (%1)").arg(QString::fromLatin1(live::task_name(doc_->task()))), demo);
    const QString current = doc_->modelPath();
    if (!current.isEmpty() && current != demo)
        modelBox_->addItem(QFileInfo(current).fileName(), current);
    modelBox_->addItem(tr("Open checkpoint…"), QString());
    const int i = modelBox_->findData(current);
    modelBox_->setCurrentIndex(i >= 0 ? i : modelBox_->count() - 1);
}

void MainWindow::setTask(Task task)
{
    doc_->setTask(task);
    taskBox_->setCurrentIndex(taskBox_->findData(static_cast<int>(task)));
    loadDefaultModel();
}

bool MainWindow::openImage(const QString& path)
{
    QImage image(path);
    if (image.isNull()) {
        showError(tr("%1: not an image this program can read (missing, damaged or of an unknown format)").arg(path));
        return false;
    }
    if (image.width() > 16384 || image.height() > 16384) {
        showError(tr("%1: %2x%3 pixels is too large (16384 a side at most)").arg(path).arg(image.width()).arg(image.height()));
        return false;
    }
    doc_->setSource(image, path);
    projectPath_.clear();
    addRecent(path);
    refreshTitle();
    return true;
}

bool MainWindow::openCheckpoint(const QString& path)
{
    // Only what is instant here; reading the weights (up to hundreds of MB) happens in the worker
    // thread, which reports problems (damaged file, a model for another task) by signal and keeps
    // the model it had.
    const QFileInfo file(path);
    if (!file.isFile() || !file.isReadable()) {
        showError(tr("%1: no such file, or it cannot be read").arg(path));
        refreshModelList();
        return false;
    }
    applyNativeSize_ = true;
    doc_->setModelPath(file.absoluteFilePath());
    refreshModelList();
    return true;
}

bool MainWindow::openProject(const QString& path)
{
    try {
        doc_->load(path);
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    projectPath_ = path;
    taskBox_->setCurrentIndex(taskBox_->findData(static_cast<int>(doc_->task())));
    session_->applyDevice();
    if (doc_->modelPath().isEmpty() || !QFileInfo::exists(doc_->modelPath()))
        loadDefaultModel();
    refreshModelList();
    refreshTitle();
    addRecent(path);
    return true;
}

bool MainWindow::saveProject(const QString& path)
{
    try {
        doc_->save(path);
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    projectPath_ = path;
    doc_->setClean();
    addRecent(path);
    refreshTitle();
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return true;
}

bool MainWindow::openSample(Task task, const QString& id)
{
    const QString root = dataDirectory() + QStringLiteral("/samples/") + QString::fromLatin1(live::task_name(task)) + QStringLiteral("/val/");
    auto find = [&](const QString& role) {
        const QDir d(root + role);
        const QStringList hits = d.entryList({id + QStringLiteral(".*")}, QDir::Files);
        return hits.isEmpty() ? QString() : d.filePath(hits.first());
    };
    const QString input = find(QStringLiteral("input")), guide = find(QStringLiteral("guide")), target = find(QStringLiteral("target"));
    if (input.isEmpty() || guide.isEmpty() || target.isEmpty()) {
        showError(tr("Sample %1 of the %2 task is incomplete in %3").arg(id, taskTitle(task), root));
        return false;
    }
    try {
        if (task != doc_->task())
            setTask(task);
        switch (task) {
        case Task::Pose: {
            const QImage image(input);
            const live::PoseFile pose = live::read_pose_json(guide.toStdString());
            if (image.isNull() || pose.people.empty())
                throw std::runtime_error(tr("sample %1 is damaged").arg(id).toStdString());
            doc_->setSource(image, input);
            doc_->setSkeleton(pose.people.front());
            break;
        }
        case Task::Depth: {
            const QImage rgb(guide);
            if (rgb.isNull())
                throw std::runtime_error(tr("sample %1 is damaged").arg(id).toStdString());
            doc_->setSource(rgb, guide);
            doc_->setDepthMap(live::read_depth(target.toStdString()), target);
            break;
        }
        case Task::Texture: {
            // The photo is the source; the sketch and the patches come from the sample.
            const QImage photo(target);
            const QImage patches(guide);
            if (photo.isNull() || patches.isNull())
                throw std::runtime_error(tr("sample %1 is damaged").arg(id).toStdString());
            doc_->setSource(photo, target);
            doc_->setSketch(live::read_sketch(input.toStdString()));
            // Each opaque region of the RGBA guide becomes a texture and a patch over its box.
            const QImage rgba = patches.convertToFormat(QImage::Format_ARGB32);
            QList<PatchPlacement> placed;
            QImage seen(rgba.size(), QImage::Format_Grayscale8);
            seen.fill(0);
            for (int y = 0; y < rgba.height(); ++y)
                for (int x = 0; x < rgba.width(); ++x) {
                    if (qAlpha(rgba.pixel(x, y)) == 0 || seen.scanLine(y)[x])
                        continue;
                    QRect box(x, y, 1, 1);
                    QList<QPoint> stack{{x, y}};
                    seen.scanLine(y)[x] = 1;
                    while (!stack.isEmpty()) {
                        const QPoint p = stack.takeLast();
                        box = box.united(QRect(p, QSize(1, 1)));
                        for (const QPoint d : {QPoint(1, 0), QPoint(-1, 0), QPoint(0, 1), QPoint(0, -1)}) {
                            const QPoint q = p + d;
                            if (q.x() < 0 || q.y() < 0 || q.x() >= rgba.width() || q.y() >= rgba.height())
                                continue;
                            if (seen.scanLine(q.y())[q.x()] || qAlpha(rgba.pixel(q)) == 0)
                                continue;
                            seen.scanLine(q.y())[q.x()] = 1;
                            stack.append(q);
                        }
                    }
                    if (box.width() * box.height() < 16)
                        continue; // specks
                    const int t = doc_->addTexture(rgba.copy(box).convertToFormat(QImage::Format_RGB888));
                    const double sx = static_cast<double>(photo.width()) / rgba.width(), sy = static_cast<double>(photo.height()) / rgba.height();
                    placed.append({t, QRectF(box.x() * sx, box.y() * sy, box.width() * sx, box.height() * sy)});
                }
            doc_->setPatches(placed);
            break;
        }
        }
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    doc_->undoStack()->clear();
    projectPath_.clear();
    refreshTitle();
    return true;
}

bool MainWindow::saveResult(const QString& path)
{
    const ResultPtr r = session_->currentFull() ? session_->currentFull() : session_->current();
    if (!r) {
        showError(tr("There is no result to save yet."));
        return false;
    }
    try {
        if (doc_->task() == Task::Depth)
            live::write_depth(path.toStdString(), r->raw);
        else if (path.endsWith(QStringLiteral(".npy"), Qt::CaseInsensitive))
            live::write_npy(path.toStdString(), r->raw);
        else {
            // QSaveFile: written beside, then renamed over, so a failed write never leaves half a file.
            QSaveFile file(path);
            const QByteArray format = QFileInfo(path).suffix().toLower().toLatin1();
            if (!file.open(QIODevice::WriteOnly) || !toQImage(r->image).save(&file, format.constData()) || !file.commit())
                throw std::runtime_error(tr("%1: cannot write the image").arg(path).toStdString());
        }
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return false;
    }
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return true;
}

void MainWindow::showError(const QString& message)
{
    statusBar()->showMessage(message, 10000);
    Q_EMIT errorShown(message);
    // The same message again while its box is still open (a failure repeated on every mouse
    // move, say) goes to the status bar only.
    if (openError_ && openError_->text() == message)
        return;
    // Window-modal and opened, not exec()'d: the app (and the live result) keeps running.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("bFT Studio"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->open();
    openError_ = box;
}

void MainWindow::showResult(const ResultPtr& result, bool preview)
{
    QImage image = toQImage(result->image);
    if (doc_->task() == Task::Depth)
        image = depthPicture(result->raw, doc_->depthDisplayRange());
    QImage source = doc_->task() == Task::Texture ? doc_->sketchImage() : doc_->source();
    resultView_->scene()->setSceneRect(QRectF(QPointF(0, 0), QSizeF(doc_->source().size())));
    compare_->setImages(source, image);
    latencyLabel_->setText(preview ? tr("Preview %1 ms%2").arg(result->milliseconds, 0, 'f', 0).arg(result->bf16 ? tr(" (bf16)") : QString())
                                   : tr("Result %1 ms").arg(result->milliseconds, 0, 'f', 0));
    if (!preview && !result->film.empty())
        film_->setMaps(FilmViewer::Maps(result, &result->film), doc_->source()); // shares the result
}

void MainWindow::refreshGuideView()
{
    poseTool_->detach();
    depthTool_->detach();
    textureTool_->detach();
    GuideTool* tool = nullptr;
    switch (doc_->task()) {
    case Task::Pose:
        tool = poseTool_;
        panels_->setCurrentWidget(posePanel_);
        guideView_->setBackground(doc_->source());
        break;
    case Task::Depth:
        tool = depthTool_;
        panels_->setCurrentWidget(depthPanel_);
        guideView_->setBackground(doc_->source());
        break;
    case Task::Texture:
        tool = textureTool_;
        panels_->setCurrentWidget(texturePanel_);
        guideView_->setBackground(doc_->sketchImage());
        break;
    }
    tool->attach(guideView_);
    guideView_->setTool(tool);
    compare_->setImages(doc_->task() == Task::Texture ? doc_->sketchImage() : doc_->source(), QImage());
    resultView_->scene()->setSceneRect(QRectF(QPointF(0, 0), QSizeF(doc_->source().size())));
    resultView_->fitToWindow();
    film_->setMaps(nullptr, QImage());
    latencyLabel_->clear();
    refreshTitle();
}

void MainWindow::refreshTitle()
{
    QString name = projectPath_.isEmpty() ? QFileInfo(doc_->sourcePath()).fileName() : QFileInfo(projectPath_).fileName();
    if (name.isEmpty())
        name = tr("untitled");
    setWindowTitle(tr("%1[*] — %2 — bFT Studio").arg(name, taskTitle(doc_->task())));
    setWindowModified(doc_->isModified());
}

void MainWindow::addRecent(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentFiles")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue(QStringLiteral("recentFiles"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString& path : recent)
        recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] {
            if (confirmDiscard())
                openAny(path);
        })->setToolTip(path);
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::openAny(const QString& path)
{
    const QString ext = QFileInfo(path).suffix().toLower();
    if (ext == QStringLiteral("bftproj"))
        openProject(path);
    else if (ext == QStringLiteral("pth") || ext == QStringLiteral("pt"))
        openCheckpoint(path);
    else if (ext == QStringLiteral("json") && doc_->task() == Task::Pose) {
        QString error;
        if (!posePanel_->importJson(path, &error))
            showError(error);
    } else
        openImage(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile())
        return;
    const QString path = urls.first().toLocalFile();
    if (isImageFile(path) && !confirmDiscard())
        return;
    openAny(path);
}

void MainWindow::autosaveNow()
{
    // Only when there is unsaved work that the last autosave does not already hold.
    if (!doc_->isModified() || doc_->source().isNull() || revision_ == autosavedRevision_)
        return;
    autosavedRevision_ = revision_;
    try {
        doc_->save(options_.autosavePath);
    } catch (const std::exception& e) {
        statusBar()->showMessage(tr("Autosave failed: %1").arg(QString::fromStdString(e.what())), 10000);
    }
}

bool MainWindow::confirmDiscard()
{
    if (!doc_->isModified() || !isVisible())
        return true;
    const auto answer = QMessageBox::question(this, tr("Unsaved changes"), tr("The guide has unsaved changes. Discard them?"),
                                              QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
    return answer == QMessageBox::Discard;
}

void MainWindow::switchLanguage(const QString& locale)
{
    QSettings().setValue(QStringLiteral("language"), locale);
    QMessageBox::information(this, tr("Language"), tr("The language changes when bFT Studio starts again."));
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (doc_->isModified()) {
        const auto answer = QMessageBox::question(this, tr("Unsaved changes"), tr("Save the project before closing?"),
                                                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
        if (answer == QMessageBox::Cancel) {
            event->ignore();
            return;
        }
        if (answer == QMessageBox::Save) {
            QString path = projectPath_;
            if (path.isEmpty())
                path = QFileDialog::getSaveFileName(this, tr("Save project"), QStringLiteral("untitled.bftproj"), tr("bFT Studio projects (*.bftproj)"));
            if (path.isEmpty() || !saveProject(path)) {
                event->ignore();
                return;
            }
        }
    }
    // A clean exit: nothing to recover next time.
    QFile::remove(options_.autosavePath);
    event->accept();
}

} // namespace bft::studio
