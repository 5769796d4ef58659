// The editor, driven as a person would (Qt Test, offscreen platform): mouse drags on the guide,
// undo, rapid edits against the worker thread, the gamma/beta viewer on the authors' maps, bad
// files, projects and autosave. Models are the small official-parity fixtures, so the results
// are the authors' network's, and fast.
#include "canvas.h"
#include "colormap.h"
#include "document.h"
#include "film_viewer.h"
#include "finetune_panel.h"
#include "guide_commands.h"
#include "guide_tools.h"
#include "import_dialog.h"
#include "live_session.h"
#include "live_training.h"
#include "main_window.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageBox>
#include <QMouseEvent>
#include <QProcess>
#include <QPushButton>
#include <QTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include <cmath>
#include <csignal>

using namespace bft::studio;
using bft::live::Task;

namespace {

const QString kFixtures = QStringLiteral(BFT_SHARED_DIR "/fixtures/official-parity");

QString fixtureModel(const char* name) { return kFixtures + QLatin1Char('/') + QLatin1String(name) + QStringLiteral("/weights.pth"); }

void sendMouse(QWidget* w, QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons)
{
    QMouseEvent e(type, QPointF(pos), w->mapToGlobal(QPointF(pos)), button, buttons, Qt::NoModifier);
    QApplication::sendEvent(w, &e);
}

// A drag of the left button from `from` to `to` in scene (source pixel) coordinates.
void drag(CanvasView* view, QPointF from, QPointF to, int steps = 8)
{
    QWidget* vp = view->viewport();
    const QPoint a = view->mapFromScene(from);
    sendMouse(vp, QEvent::MouseButtonPress, a, Qt::LeftButton, Qt::LeftButton);
    for (int i = 1; i <= steps; ++i) {
        const QPointF p = from + (to - from) * (static_cast<double>(i) / steps);
        sendMouse(vp, QEvent::MouseMove, view->mapFromScene(p), Qt::NoButton, Qt::LeftButton);
    }
    sendMouse(vp, QEvent::MouseButtonRelease, view->mapFromScene(to), Qt::LeftButton, Qt::NoButton);
}

QByteArray bytes(const ResultPtr& r) { return QByteArray(reinterpret_cast<const char*>(r->image.bytes.data()), static_cast<qsizetype>(r->image.bytes.size())); }

} // namespace

class StudioTest : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::unique_ptr<MainWindow> window_;

    // A window on the first pose sample with the pose fixture model, its first full result in.
    void openPoseWindow()
    {
        StartOptions o;
        o.restoreAutosave = false;
        o.autosavePath = tmp_.filePath(QStringLiteral("autosave.bftproj"));
        window_ = std::make_unique<MainWindow>(o);
        window_->resize(1200, 800);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
        QVERIFY(window_->openImage(QStringLiteral(BFT_SOURCE_DIR "/resources/samples/pose/val/input/000200.png")));
        QVERIFY(window_->openCheckpoint(fixtureModel("pose_resnet")));
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->currentFull() != nullptr, 20000);
    }

private Q_SLOTS:
    void init() { QVERIFY(tmp_.isValid()); }
    void cleanup() { window_.reset(); }

    void dragKeypointChangesGuideAndResultAndUndoRestoresBoth()
    {
        openPoseWindow();
        Document* doc = window_->document();
        LiveSession* live = window_->session();
        const ResultPtr first = live->currentFull();
        const bft::live::Skeleton before = doc->skeleton();
        const int k = 4; // right wrist
        const QPointF from(before[k].x, before[k].y);
        const QPointF to = from + QPointF(-20, 15);
        QSignalSpy shown(live, &LiveSession::resultShown);

        drag(window_->guideView(), from, to);

        const bft::live::Keypoint moved = doc->skeleton()[k];
        QVERIFY2(std::abs(moved.x - to.x()) < 1.5 && std::abs(moved.y - to.y()) < 1.5,
                 qPrintable(QStringLiteral("keypoint at %1,%2").arg(moved.x).arg(moved.y)));
        for (int j = 0; j < bft::live::kKeypoints; ++j)
            if (j != k)
                QCOMPARE(doc->skeleton()[j].x, before[j].x);
        QCOMPARE(doc->undoStack()->count(), 1); // one drag, one undo step
        QTRY_VERIFY_WITH_TIMEOUT(live->currentFull() != first && !live->worker()->isBusy(), 20000);
        QVERIFY(shown.count() >= 1);
        const ResultPtr afterDrag = live->currentFull();
        QVERIFY(bytes(afterDrag) != bytes(first));

        doc->undoStack()->undo();
        QCOMPARE(doc->skeleton()[k].x, before[k].x);
        QCOMPARE(doc->skeleton()[k].y, before[k].y);
        QTRY_VERIFY_WITH_TIMEOUT(live->currentFull() != afterDrag && !live->worker()->isBusy(), 20000);
        QCOMPARE(bytes(live->currentFull()), bytes(first)); // same guide, same result
    }

    void rapidRequestsRunAFewForwardsAndShowTheLast()
    {
        openPoseWindow();
        Document* doc = window_->document();
        LiveSession* live = window_->session();
        InferenceWorker* worker = live->worker();
        const long long forwardsBefore = worker->forwardsStarted();
        const bft::live::Skeleton base = doc->skeleton();
        for (int i = 1; i <= 50; ++i) {
            bft::live::Keypoint p = base[0];
            p.x += static_cast<float>(i % 10);
            p.y += static_cast<float>(i / 10);
            doc->undoStack()->push(new MoveKeypointCommand(doc, 0, p, nextDragId()));
        }
        QCOMPARE(live->requestsMade() >= 50, true);
        const long long last = live->lastRequestSeq();
        QTRY_VERIFY_WITH_TIMEOUT(live->current() && live->current()->seq == last && !worker->isBusy(), 30000);
        const long long forwards = worker->forwardsStarted() - forwardsBefore;
        QVERIFY2(forwards <= 6, qPrintable(QStringLiteral("%1 forwards for 50 requests").arg(forwards)));
        // What is shown is the last request's result: the same as a fresh run of that guide.
        const QByteArray shown = bytes(live->current());
        doc->setSkeleton(base); // away and back: a fresh request for the same final guide
        QTRY_VERIFY_WITH_TIMEOUT(!worker->isBusy() && live->current()->seq == live->lastRequestSeq(), 20000);
        bft::live::Keypoint p = base[0];
        p.x += 0;
        p.y += 5;
        doc->undoStack()->push(new MoveKeypointCommand(doc, 0, p, nextDragId()));
        QTRY_VERIFY_WITH_TIMEOUT(!worker->isBusy() && live->current()->seq == live->lastRequestSeq(), 20000);
        QCOMPARE(bytes(live->current()), shown);
    }

    void inferenceThreadTakesNoSignals()
    {
        // oneDNN's JIT GEMM corrupts the heap if a signal is handled on its thread (model/runtime.h):
        // the forward's thread blocks them; the GUI thread still takes them (Ctrl-C ends the app).
        openPoseWindow();
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->current() && !window_->session()->worker()->isBusy(), 30000);
        auto sigint_blocked = [](const QString& task) {
            QFile f(task + QStringLiteral("/status"));
            if (!f.open(QIODevice::ReadOnly))
                return -1;
            for (const QByteArray& line : f.readAll().split('\n'))
                if (line.startsWith("SigBlk:"))
                    return static_cast<int>((line.mid(7).trimmed().toULongLong(nullptr, 16) >> (SIGINT - 1)) & 1);
            return -1;
        };
        const QString tasks = QStringLiteral("/proc/self/task");
        int workers = 0;
        for (const QString& tid : QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QFile comm(tasks + "/" + tid + "/comm");
            if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == "bft inference") {
                ++workers;
                QCOMPARE(sigint_blocked(tasks + "/" + tid), 1);
            }
        }
        QVERIFY(workers >= 1); // the threads it started (OpenMP's) carry its name, and its mask
        QCOMPARE(sigint_blocked(tasks + "/" + QString::number(QCoreApplication::applicationPid())), 0);
    }

    void filmViewerShowsTheAuthorsMaps()
    {
        std::map<std::string, bft::live::Raster> maps;
        for (const char* name : {"gamma_g2i_L1", "gamma_g2i_L2", "beta_g2i_L2", "gamma_i2g_L2", "beta_i2g_L3"})
            maps[name] = bft::live::read_npy((kFixtures + QStringLiteral("/pose_resnet/") + QLatin1String(name) + QStringLiteral(".npy")).toStdString());
        FilmViewer viewer;
        viewer.resize(500, 500);
        viewer.setMaps(std::make_shared<const std::map<std::string, bft::live::Raster>>(maps), QImage());
        viewer.select(2, QStringLiteral("g2i"), QStringLiteral("beta"), FilmViewer::Channel, 3);
        QCOMPARE(viewer.currentKey(), QStringLiteral("beta_g2i_L2"));
        const bft::live::Raster& m = maps["beta_g2i_L2"];
        const bft::live::Raster& s = viewer.shown();
        QCOMPARE(s.width, m.width);
        QCOMPARE(s.height, m.height);
        const size_t n = static_cast<size_t>(m.width) * m.height;
        float lo = 1e9f, hi = -1e9f;
        size_t argmax = 0;
        for (size_t i = 0; i < n; ++i) {
            const float v = m.values[3 * n + i];
            QCOMPARE(s.values[i], v);
            lo = std::min(lo, v);
            if (v > hi) {
                hi = v;
                argmax = i;
            }
        }
        QCOMPARE(viewer.shownMin(), lo);
        QCOMPARE(viewer.shownMax(), hi);
        // The largest value wears the top of the colour map.
        const QColor top = viridis(1.0);
        QCOMPARE(viewer.picture().pixelColor(static_cast<int>(argmax % m.width), static_cast<int>(argmax / m.width)), top);
        // Mean over channels.
        viewer.select(2, QStringLiteral("g2i"), QStringLiteral("gamma"), FilmViewer::Mean);
        const bft::live::Raster& g = maps["gamma_g2i_L2"];
        double mean0 = 0;
        for (int c = 0; c < g.channels; ++c)
            mean0 += g.values[c * n];
        QVERIFY(std::abs(viewer.shown().values[0] - mean0 / g.channels) < 1e-5);
        // Principal components: three channels, the first with the most variance.
        viewer.select(2, QStringLiteral("g2i"), QStringLiteral("gamma"), FilmViewer::Pca);
        QCOMPARE(viewer.shown().channels, 3);
        auto variance = [&](int c) {
            double s1 = 0, s2 = 0;
            for (size_t i = 0; i < n; ++i) {
                s1 += viewer.shown().values[c * n + i];
                s2 += std::pow(viewer.shown().values[c * n + i], 2);
            }
            return s2 / n - std::pow(s1 / n, 2);
        };
        QVERIFY(variance(0) >= variance(1) && variance(1) >= variance(2) && variance(0) > 0);
        // The input -> guide maps of level 3 exist, level 4's do not (the ResNet has none).
        viewer.select(3, QStringLiteral("i2g"), QStringLiteral("beta"), FilmViewer::Channel, 0);
        QVERIFY(!viewer.shown().empty());
        // Export round trip.
        const QString npy = tmp_.filePath(QStringLiteral("beta.npy"));
        QString error;
        QVERIFY2(viewer.exportNpy(npy, &error), qPrintable(error));
        const bft::live::Raster back = bft::live::read_npy(npy.toStdString());
        QVERIFY(back.values == viewer.shown().values);
        QVERIFY2(viewer.exportPng(tmp_.filePath(QStringLiteral("beta.png")), &error), qPrintable(error));
        QCOMPARE(QImage(tmp_.filePath(QStringLiteral("beta.png"))).size(), QSize(viewer.shown().width, viewer.shown().height));
    }

    void liveResultCarriesMapsOfEveryLevel()
    {
        openPoseWindow();
        const ResultPtr r = window_->session()->currentFull();
        for (const char* key : {"gamma_g2i_L1", "gamma_g2i_L4", "beta_i2g_L1", "beta_i2g_L3"})
            QVERIFY2(r->film.count(key) == 1, key);
        QVERIFY(window_->filmViewer()->hasMaps());
    }

    void badFilesShowAnErrorAndTheAppGoesOn()
    {
        openPoseWindow();
        QSignalSpy errors(window_.get(), &MainWindow::errorShown);
        const QString image = tmp_.filePath(QStringLiteral("corrupt.png"));
        const QString model = tmp_.filePath(QStringLiteral("corrupt.pth"));
        for (const QString& path : {image, model}) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("\x89PNG\r\n\x1a\n this is not really a file of that kind");
        }
        const QString modelBefore = window_->document()->modelPath();
        const QImage sourceBefore = window_->document()->source();
        QVERIFY(!window_->openImage(image));
        QCOMPARE(errors.count(), 1);
        QVERIFY(errors.at(0).at(0).toString().contains(image));
        // Checkpoints load in the worker thread: the error arrives by signal, the old model stays.
        // (The worker may still be busy with the first results: generous timeouts for the
        // sanitizer builds on a loaded machine.)
        window_->openCheckpoint(model);
        QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 2, 30000);
        QVERIFY(errors.at(1).at(0).toString().contains(model));
        QTRY_COMPARE(window_->document()->modelPath(), modelBefore);
        window_->openCheckpoint(fixtureModel("depth_resnet")); // another task's model
        QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 3, 30000);
        QVERIFY2(errors.at(2).at(0).toString().contains(QStringLiteral("depth task")), qPrintable(errors.at(2).at(0).toString()));
        QTRY_COMPARE(window_->document()->modelPath(), modelBefore);
        QVERIFY(!window_->openCheckpoint(tmp_.filePath(QStringLiteral("missing.pth"))));
        QCOMPARE(errors.count(), 4);
        QVERIFY(!window_->openProject(image));
        QCOMPARE(errors.count(), 5);
        // Nothing was lost, and the live result still follows the guide.
        QCOMPARE(window_->document()->modelPath(), modelBefore);
        QCOMPARE(window_->document()->source(), sourceBefore);
        const ResultPtr before = window_->session()->currentFull();
        drag(window_->guideView(), QPointF(window_->document()->skeleton()[7].x, window_->document()->skeleton()[7].y),
             QPointF(window_->document()->skeleton()[7].x + 10, window_->document()->skeleton()[7].y));
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->currentFull() != before, 60000);
    }

    // The bad-input matrix for session files: each is refused with a message naming it, and
    // nothing the person had changes; a good session under an odd path opens.
    void sessionFilesEveryWayWrong()
    {
        openPoseWindow();
        Document* doc = window_->document();
        const QString good = tmp_.filePath(QStringLiteral("good.bftproj"));
        QVERIFY(window_->saveProject(good));
        const QByteArray goodBytes = [&] { QFile f(good); f.open(QIODevice::ReadOnly); return f.readAll(); }();
        QJsonObject json = QJsonDocument::fromJson(goodBytes).object();
        auto variant = [&](const char* key, const QJsonValue& v) {
            QJsonObject j = json;
            j[QLatin1String(key)] = v;
            return QJsonDocument(j).toJson();
        };
        QJsonObject bomb{{QStringLiteral("channels"), 1}, {QStringLiteral("height"), 16384}, {QStringLiteral("width"), 16384},
                         {QStringLiteral("float32_zlib_base64"), QString::fromLatin1(qCompress(QByteArray(64, '\0')).toBase64())}};
        QJsonArray farPoints = json.value(QStringLiteral("keypoints")).toArray();
        farPoints[3] = QJsonArray{1e300, 5, 1};
        const QList<QPair<QString, QByteArray>> bad{
            {QStringLiteral("empty"), QByteArray()},
            {QStringLiteral("truncated"), goodBytes.left(goodBytes.size() / 2)},
            {QStringLiteral("a PNG"), QByteArray("\x89PNG\r\n\x1a\n not a session")},
            {QStringLiteral("another program's JSON"), QByteArray(R"({"people": []})")},
            {QStringLiteral("a damaged source image"), variant("source_png", QStringLiteral("AAAA"))},
            {QStringLiteral("a map that declares 16384 x 16384"), variant("low_depth", bomb)},
            {QStringLiteral("a keypoint at 1e300"), variant("keypoints", farPoints)},
            {QStringLiteral("a patch of another texture"), variant("patches", QJsonArray{QJsonArray{7, 0, 0, 10, 10}})},
        };
        QSignalSpy errors(window_.get(), &MainWindow::errorShown);
        const bft::live::Skeleton before = doc->skeleton();
        const QImage sourceBefore = doc->source();
        int expected = 0;
        for (const auto& [name, bytes] : bad) {
            const QString path = tmp_.filePath(QStringLiteral("bad %1.bftproj").arg(expected));
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
            f.close();
            QVERIFY2(!window_->openProject(path), qPrintable(name));
            QCOMPARE(errors.count(), ++expected);
            QVERIFY2(errors.back().at(0).toString().contains(path), qPrintable(name + QStringLiteral(": ") + errors.back().at(0).toString()));
            QCOMPARE(doc->source(), sourceBefore);
            for (int k = 0; k < bft::live::kKeypoints; ++k)
                QCOMPARE(doc->skeleton()[k].x, before[k].x);
        }
        // A folder and a missing file.
        QVERIFY(QDir(tmp_.path()).mkpath(QStringLiteral("folder.bftproj")));
        for (const QString& path : {tmp_.filePath(QStringLiteral("folder.bftproj")), tmp_.filePath(QStringLiteral("missing.bftproj"))}) {
            QVERIFY(!window_->openProject(path));
            QCOMPARE(errors.count(), ++expected);
            QVERIFY(errors.back().at(0).toString().contains(path));
        }
        // The good session under a path with spaces and non-ASCII characters opens; the original is untouched.
        const QString odd = tmp_.filePath(QStringLiteral("séance de poses 姿勢.bftproj"));
        QVERIFY(QFile::copy(good, odd));
        QVERIFY(window_->openProject(odd));
        QCOMPARE(errors.count(), expected);
        QFile g(good);
        QVERIFY(g.open(QIODevice::ReadOnly));
        QCOMPARE(g.readAll(), goodBytes);
    }

    void projectRoundTripAndAutosave()
    {
        openPoseWindow();
        Document* doc = window_->document();
        drag(window_->guideView(), QPointF(doc->skeleton()[1].x, doc->skeleton()[1].y), QPointF(doc->skeleton()[1].x + 7, doc->skeleton()[1].y - 3));
        const bft::live::Skeleton edited = doc->skeleton();
        QVERIFY(doc->isModified());
        // Model > Use Less Memory: a setting of the project, carried by every request.
        QAction* lowMemory = nullptr;
        for (QAction* a : window_->findChildren<QAction*>())
            if (a->text() == QStringLiteral("Use &Less Memory"))
                lowMemory = a;
        QVERIFY(lowMemory && lowMemory->isCheckable() && !lowMemory->isChecked());
        lowMemory->trigger();
        QVERIFY(doc->settings().lowMemory);
        QVERIFY(doc->makeRequest(128, true).low_memory);
        window_->autosaveNow();
        QVERIFY(QFile::exists(tmp_.filePath(QStringLiteral("autosave.bftproj"))));
        const QString project = tmp_.filePath(QStringLiteral("p.bftproj"));
        QVERIFY(window_->saveProject(project));
        QVERIFY(!doc->isModified());
        doc->undoStack()->push(new SetSkeletonCommand(doc, bft::live::default_skeleton(10, 10), QStringLiteral("x")));
        QVERIFY(window_->openProject(project));
        for (int k = 0; k < bft::live::kKeypoints; ++k) {
            QCOMPARE(doc->skeleton()[k].x, edited[k].x);
            QCOMPARE(doc->skeleton()[k].present, edited[k].present);
        }
        QCOMPARE(doc->modelPath(), QFileInfo(fixtureModel("pose_resnet")).absoluteFilePath());
        QVERIFY(doc->settings().lowMemory);
        QVERIFY(lowMemory->isChecked());
        lowMemory->trigger();
        QVERIFY(!doc->settings().lowMemory && !doc->makeRequest(128, true).low_memory);
        // A recovery opens the autosave as a project.
        Document other;
        other.load(tmp_.filePath(QStringLiteral("autosave.bftproj")));
        QCOMPARE(other.skeleton()[1].x, edited[1].x);
    }

    void killedEditorOffersItsAutosaveOnRestart()
    {
        // The editor in its own process, as a person runs it: a drag goes on (the drag benchmark's
        // synthetic mouse), an autosave passes, and the process is killed outright (no handler
        // runs, nothing is flushed). The next start offers the autosave, and it holds the edit.
        const QString home = tmp_.filePath(QStringLiteral("home"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), home);
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home);
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        QProcess editor;
        editor.setProcessEnvironment(env);
        editor.start(QStringLiteral(BFT_STUDIO), {QStringLiteral("--task"), QStringLiteral("pose"), QStringLiteral("--bench-drag"),
                                                  tmp_.filePath(QStringLiteral("drag.json")), QStringLiteral("--bench-seconds"),
                                                  QStringLiteral("600")});
        QVERIFY(editor.waitForStarted());
        const QString autosave = home + QStringLiteral("/bFT Studio/bft-studio/autosave.bftproj");
        // Written atomically (temporary file, rename): once it is there, it is whole. The first
        // autosave comes 15 s in; the margin is for the sanitizer builds.
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(autosave) || editor.state() != QProcess::Running, 120000);
        QVERIFY2(editor.state() == QProcess::Running, ("the editor ended before its autosave: " + editor.readAllStandardError().right(4000)).constData());
        ::kill(static_cast<pid_t>(editor.processId()), SIGKILL);
        QVERIFY(editor.waitForFinished(10000));
        QCOMPARE(editor.exitStatus(), QProcess::CrashExit);

        Document saved;
        saved.load(autosave);
        StartOptions o;
        o.restoreAutosave = false;
        o.autosavePath = tmp_.filePath(QStringLiteral("unused.bftproj"));
        window_ = std::make_unique<MainWindow>(o);
        const QStringList ids = window_->sampleIds(Task::Pose);
        QVERIFY(!ids.isEmpty());
        QVERIFY(window_->openSample(Task::Pose, ids.first())); // where the drag started from
        const bft::live::Skeleton original = window_->document()->skeleton();
        double moved = 0;
        for (int k = 0; k < bft::live::kKeypoints; ++k)
            moved = std::max(moved, static_cast<double>(std::hypot(saved.skeleton()[k].x - original[k].x, saved.skeleton()[k].y - original[k].y)));
        QVERIFY2(moved > 0.01, "the autosave does not hold the drag");
        window_->document()->setClean();
        window_.reset();

        // The restart: it asks, the person says yes, the session is back and still unsaved.
        QTimer yes;
        connect(&yes, &QTimer::timeout, [] {
            for (QWidget* w : QApplication::topLevelWidgets())
                if (auto* box = qobject_cast<QMessageBox*>(w); box && box->isVisible() && box->button(QMessageBox::Yes))
                    box->button(QMessageBox::Yes)->click();
        });
        yes.start(100);
        StartOptions again;
        again.restoreAutosave = true;
        again.autosavePath = autosave;
        window_ = std::make_unique<MainWindow>(again);
        yes.stop();
        QVERIFY(window_->document()->isModified());
        for (int k = 0; k < bft::live::kKeypoints; ++k) {
            QCOMPARE(window_->document()->skeleton()[k].x, saved.skeleton()[k].x);
            QCOMPARE(window_->document()->skeleton()[k].y, saved.skeleton()[k].y);
        }
        window_->document()->setClean();
    }

    void depthBrushPaintsTheGridAndUndoesAsOneStroke()
    {
        StartOptions o;
        o.restoreAutosave = false;
        o.autosavePath = tmp_.filePath(QStringLiteral("autosave.bftproj"));
        window_ = std::make_unique<MainWindow>(o);
        window_->resize(1200, 800);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
        window_->setTask(Task::Depth);
        QVERIFY(window_->openImage(QStringLiteral(BFT_SOURCE_DIR "/resources/samples/pose/val/input/000200.png")));
        QVERIFY(window_->openCheckpoint(fixtureModel("depth_resnet")));
        Document* doc = window_->document();
        const bft::live::Raster before = doc->lowDepth();
        QVERIFY(!before.empty());
        const QSize s = doc->source().size();
        drag(window_->guideView(), QPointF(s.width() * 0.3, s.height() * 0.5), QPointF(s.width() * 0.6, s.height() * 0.5));
        QCOMPARE(doc->undoStack()->count(), 1);
        const bft::live::Raster& after = doc->lowDepth();
        const int y = static_cast<int>(0.5 * after.height);
        const int x = static_cast<int>(0.45 * after.width);
        QCOMPARE(after.at(0, y, x), 2.0f); // the brush's default value, in metres
        QCOMPARE(before.at(0, y, x), 0.0f);
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->currentFull() != nullptr, 20000);
        QCOMPARE(window_->session()->currentFull()->raw.channels, 1);
        doc->undoStack()->undo();
        QCOMPARE(doc->lowDepth().at(0, y, x), 0.0f);
    }

    void texturePatchMovesAndResizes()
    {
        StartOptions o;
        o.restoreAutosave = false;
        o.autosavePath = tmp_.filePath(QStringLiteral("autosave.bftproj"));
        window_ = std::make_unique<MainWindow>(o);
        window_->resize(1200, 800);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
        window_->setTask(Task::Texture);
        QVERIFY(window_->openImage(QStringLiteral(BFT_SHARED_DIR "/real/texturegan_flask_photo_tshirt.jpg")));
        QVERIFY(window_->openCheckpoint(fixtureModel("texture_unet")));
        Document* doc = window_->document();
        QVERIFY(!doc->sketch().empty());
        QImage texture(32, 32, QImage::Format_RGB888);
        texture.fill(QColor(200, 40, 40));
        const int t = doc->addTexture(texture);
        const QRectF rect(40, 40, 50, 50);
        doc->undoStack()->push(new SetPatchesCommand(doc, {{t, rect}}, QStringLiteral("place")));
        drag(window_->guideView(), rect.center(), rect.center() + QPointF(30, 10));
        QCOMPARE(doc->undoStack()->count(), 2);
        QVERIFY(std::abs(doc->patches()[0].rect.x() - 70) < 1.5 && std::abs(doc->patches()[0].rect.y() - 50) < 1.5);
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->currentFull() != nullptr && !window_->session()->worker()->isBusy(), 20000);
        QCOMPARE(window_->session()->currentFull()->raw.channels, 3);
        doc->undoStack()->undo();
        QCOMPARE(doc->patches()[0].rect, rect);
    }

    void finetunePanelTrainsPausesResumesStopsAndSwapsTheModel()
    {
        openPoseWindow();
        const QString data = tmp_.filePath(QStringLiteral("tiny-pose"));
        bft::live::make_synthetic_dataset("pose", 12, 64, 3, data.toStdString());
        FinetunePanel* panel = window_->finetunePanel();
        QSignalSpy previews(panel, &FinetunePanel::previewShown);
        panel->setSteps(400, 2, 5); // long enough that pause and stop come first
        panel->setRunDirectory(tmp_.filePath(QStringLiteral("run")));
        panel->setDataset(data);
        QTRY_VERIFY_WITH_TIMEOUT(panel->datasetOk(), 20000);
        // Fine-tunes the editor's model (the pose fixture).
        QVERIFY(panel->start());
        QCOMPARE(panel->state(), FinetunePanel::State::Training);
        QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() >= 6, 60000);
        QVERIFY(panel->chartPoints() >= 6 * 4);
        QTRY_VERIFY_WITH_TIMEOUT(previews.count() >= 1, 30000);

        panel->pause();
        QTRY_COMPARE_WITH_TIMEOUT(panel->state(), FinetunePanel::State::Paused, 30000);
        const int pausedAt = panel->lastStep();
        QVERIFY(QFileInfo::exists(panel->runDirectory() + QStringLiteral("/checkpoints/latest")));
        QTest::qWait(200);
        QCOMPARE(panel->lastStep(), pausedAt); // paused means no steps

        panel->resume();
        QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > pausedAt + 2, 60000);
        panel->stop();
        QTRY_COMPARE_WITH_TIMEOUT(panel->state(), FinetunePanel::State::Idle, 30000);

        const bft::live::RunInfo run = bft::live::read_run(panel->runDirectory().toStdString());
        QVERIFY(!run.checkpoints.empty());
        QCOMPARE(run.step_reached, panel->lastStep());
        QVERIFY(run.log.size() >= static_cast<size_t>(panel->lastStep()));
        const bft::live::ModelInfo info = bft::live::inspect(run.checkpoints.back().path);
        QCOMPARE(info.guide_nc, 18);

        // "Use in editor": the editor's model becomes the run's checkpoint, and the result changes.
        const ResultPtr before = window_->session()->currentFull();
        int row = -1;
        for (int i = 0; i < static_cast<int>(run.checkpoints.size()); ++i)
            if (run.checkpoints[i].step == run.step_reached && run.checkpoints[i].path.find("best_net_G") == std::string::npos)
                row = i;
        QVERIFY(row >= 0);
        QVERIFY(panel->useInEditor(row));
        const QString used = QFileInfo(QString::fromStdString(run.checkpoints[row].path)).absoluteFilePath();
        QTRY_COMPARE_WITH_TIMEOUT(window_->document()->modelPath(), used, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->modelReady() && window_->session()->currentFull() != before &&
                                     !window_->session()->worker()->isBusy(), 20000);
        QVERIFY(bytes(window_->session()->currentFull()) != bytes(before));

        // The run reopens from its folder, as after a restart.
        FinetunePanel fresh(window_->document());
        QVERIFY(fresh.openRun(panel->runDirectory()));
        QVERIFY(fresh.chartPoints() >= 4 * run.step_reached);
        QCOMPARE(fresh.state(), FinetunePanel::State::Paused); // not finished: it can resume
    }

    void finetunePanelTrainsInTwoProcessesAsOneRun()
    {
        // Data parallel from the panel: `bft train --nproc 2` (on the CPU here; one per GPU on a
        // machine with several), its progress, sample sheets, pause and resume shown as one run.
        openPoseWindow();
        const QString data = tmp_.filePath(QStringLiteral("tiny-pose-2"));
        bft::live::make_synthetic_dataset("pose", 12, 64, 3, data.toStdString());
        FinetunePanel* panel = window_->finetunePanel();
        panel->setBftProgram(QStringLiteral(BFT_CLI));
        panel->setProcesses(2);
        QSignalSpy previews(panel, &FinetunePanel::previewShown);
        panel->setSteps(400, 2, 4);
        panel->setRunDirectory(tmp_.filePath(QStringLiteral("run2")));
        panel->setDataset(data);
        QTRY_VERIFY_WITH_TIMEOUT(panel->datasetOk(), 20000);
        QVERIFY(panel->start());
        QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() >= 4, 90000);
        QTRY_VERIFY_WITH_TIMEOUT(previews.count() >= 1, 30000);
        QVERIFY(panel->chartPoints() >= 4 * 4);

        panel->pause();
        QTRY_COMPARE_WITH_TIMEOUT(panel->state(), FinetunePanel::State::Paused, 60000);
        const int pausedAt = panel->lastStep();
        bft::live::RunInfo run = bft::live::read_run(panel->runDirectory().toStdString());
        QCOMPARE(run.step_reached, pausedAt); // both ranks stopped after the same step; rank 0 saved it
        panel->resume();
        QTRY_VERIFY_WITH_TIMEOUT(panel->lastStep() > pausedAt + 1, 90000);
        panel->stop();
        QTRY_COMPARE_WITH_TIMEOUT(panel->state(), FinetunePanel::State::Idle, 60000);
        run = bft::live::read_run(panel->runDirectory().toStdString());
        QCOMPARE(run.step_reached, panel->lastStep());
        QFile config(panel->runDirectory() + QStringLiteral("/config.json"));
        QVERIFY(config.open(QIODevice::ReadOnly));
        QVERIFY(config.readAll().contains("\"world_size\": 2"));
        QVERIFY(bft::live::inspect(run.checkpoints.back().path).guide_nc == 18);
    }

    void importedDatasetFineTunesAModelThatLoadsInTheEditor()
    {
        // A TextureGAN folder of the real files, imported from the panel's dialog.
        const QString src = tmp_.filePath(QStringLiteral("tgan"));
        const QString real = QStringLiteral(BFT_SHARED_DIR "/real/");
        for (const auto& [kind, file] : {std::pair<QString, QString>{QStringLiteral("img"), QStringLiteral("photo")},
                                         {QStringLiteral("skg"), QStringLiteral("sketch")},
                                         {QStringLiteral("seg"), QStringLiteral("mask")}})
            for (const QString& split : {QStringLiteral("train"), QStringLiteral("val")}) {
                QDir().mkpath(src + QLatin1Char('/') + split + QLatin1Char('_') + kind + QStringLiteral("/tshirt"));
                for (const QString& name : {QStringLiteral("a"), QStringLiteral("b")})
                    QVERIFY(QFile::copy(real + QStringLiteral("texturegan_flask_") + file + QStringLiteral("_tshirt.jpg"),
                                        src + QLatin1Char('/') + split + QLatin1Char('_') + kind + QStringLiteral("/tshirt/") + name +
                                            QStringLiteral(".jpg")));
            }
        ImportDialog dialog;
        QSignalSpy done(&dialog, &ImportDialog::importFinished);
        dialog.setRequest(QStringLiteral("texturegan"), src, tmp_.filePath(QStringLiteral("imported")));
        dialog.startImport();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
        QVERIFY(dialog.succeeded());

        StartOptions o;
        o.restoreAutosave = false;
        o.autosavePath = tmp_.filePath(QStringLiteral("autosave.bftproj"));
        window_ = std::make_unique<MainWindow>(o);
        window_->show();
        window_->setTask(Task::Texture);
        QVERIFY(window_->openImage(real + QStringLiteral("texturegan_flask_photo_tshirt.jpg")));
        // The shipped demo model is the one fine-tuned.
        const QString demo = window_->demoModel(Task::Texture);
        QVERIFY2(!demo.isEmpty(), "resources/models/texture.pth is missing");
        QVERIFY(window_->openCheckpoint(demo));
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->currentFull() != nullptr, 20000);
        FinetunePanel* panel = window_->finetunePanel();
        panel->setSteps(4, 2, 2);
        panel->setRunDirectory(tmp_.filePath(QStringLiteral("tune")));
        panel->setDataset(dialog.destination());
        QTRY_VERIFY_WITH_TIMEOUT(panel->datasetOk(), 20000);
        QVERIFY(panel->start());
        QTRY_COMPARE_WITH_TIMEOUT(panel->state(), FinetunePanel::State::Idle, 60000);
        QCOMPARE(panel->lastStep(), 4);
        const bft::live::RunInfo run = bft::live::read_run(panel->runDirectory().toStdString());
        QVERIFY(run.finished);
        int row = 0;
        while (row < static_cast<int>(run.checkpoints.size()) && run.checkpoints[row].step != 4)
            ++row;
        QVERIFY(panel->useInEditor(row));
        const QString used = QFileInfo(QString::fromStdString(run.checkpoints[row].path)).absoluteFilePath();
        QTRY_COMPARE_WITH_TIMEOUT(window_->document()->modelPath(), used, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window_->session()->modelReady(), 20000);
    }
};

QTEST_MAIN(StudioTest)
#include "test_studio.moc"
