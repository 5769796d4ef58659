// bft-studio: the editor. Thin on purpose: options, language, the main window.
//   bft-studio [FILE] [--task pose|texture|depth] [--sample ID] [--lang zh_TW] [--no-restore]
//              [--screenshot OUT.png [--film-level N]]
// FILE may be an image, a .bftproj project or a .pth checkpoint. --screenshot waits for the first
// full-size result, saves a picture of the window and exits (for docs and smoke tests).
#include "drag_bench.h"
#include "film_viewer.h"
#include "finetune_panel.h"
#include "live_session.h"
#include "main_window.h"
#include "runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QJsonDocument>
#include <QSaveFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QSettings>
#include <QTimer>
#include <QTranslator>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

int main(int argc, char** argv)
{
    // --version and --help answer without a display (scripts, package tests, ssh sessions).
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--version" || a == "-v") {
            std::printf("bft-studio %s\n", BFT_VERSION);
            return 0;
        }
        if ((a == "--help" || a == "-h") && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
            ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    bft::configure_memory(); // before Qt allocates anything: the heap settings hold for every later block
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("bFT Studio"));
    QApplication::setApplicationName(QStringLiteral("bft-studio"));
    QApplication::setApplicationVersion(QStringLiteral(BFT_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("bFT Studio: guided image-to-image translation"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("an image, a .bftproj project or a .pth checkpoint"));
    const QCommandLineOption task({QStringLiteral("task")}, QStringLiteral("start on this task"), QStringLiteral("pose|texture|depth"));
    const QCommandLineOption sample({QStringLiteral("sample")}, QStringLiteral("open this demo sample"), QStringLiteral("ID"));
    const QCommandLineOption lang({QStringLiteral("lang")}, QStringLiteral("language (en, zh_TW); default: the system's"), QStringLiteral("LOCALE"));
    const QCommandLineOption noRestore({QStringLiteral("no-restore")}, QStringLiteral("do not offer to recover an unsaved session"));
    const QCommandLineOption shot({QStringLiteral("screenshot")}, QStringLiteral("save a picture of the window once the result is in, then exit"),
                                  QStringLiteral("PNG"));
    const QCommandLineOption filmLevel({QStringLiteral("film-level")}, QStringLiteral("with --screenshot: show this gamma/beta level"), QStringLiteral("N"));
    const QCommandLineOption benchDrag({QStringLiteral("bench-drag")},
                                       QStringLiteral("drag a keypoint for a few seconds, measure frames/s, latencies and GUI stalls, "
                                                      "write a JSON report and exit"),
                                       QStringLiteral("REPORT.json"));
    const QCommandLineOption benchSeconds({QStringLiteral("bench-seconds")}, QStringLiteral("with --bench-drag: drag duration"),
                                          QStringLiteral("S"), QStringLiteral("5"));
    const QCommandLineOption previewSize({QStringLiteral("preview-size")}, QStringLiteral("long side of drag previews"), QStringLiteral("PX"));
    const QCommandLineOption fullSize({QStringLiteral("full-size")}, QStringLiteral("long side of the full-size result"), QStringLiteral("PX"));
    const QCommandLineOption fp32Preview({QStringLiteral("fp32-preview")}, QStringLiteral("drag previews in fp32 instead of bf16"));
    const QCommandLineOption finetune({QStringLiteral("finetune")}, QStringLiteral("open the fine-tuning panel on this dataset folder"),
                                      QStringLiteral("DIR"));
    const QCommandLineOption finetuneStart({QStringLiteral("finetune-start")},
                                           QStringLiteral("with --finetune: start training once the dataset checks out "
                                                          "(with --screenshot: the picture is taken after the third sample sheet)"));
    parser.addOptions({task, sample, lang, noRestore, shot, filmLevel, benchDrag, benchSeconds, previewSize, fullSize, fp32Preview,
                       finetune, finetuneStart});
    parser.process(app);

    // Language: the option, else the menu's choice, else the system locale.
    QString locale = parser.value(lang);
    if (locale.isEmpty())
        locale = QSettings().value(QStringLiteral("language")).toString();
    if (locale.isEmpty())
        locale = QLocale::system().name();
    QTranslator ours, qt;
    if (ours.load(QLocale(locale), QStringLiteral("bft"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&ours);
    if (qt.load(QLocale(locale), QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(&qt);
    QLocale::setDefault(QLocale(locale));

    bft::studio::StartOptions options;
    options.restoreAutosave = !parser.isSet(noRestore) && !parser.isSet(shot) && !parser.isSet(benchDrag);
    bft::studio::MainWindow window(options);
    if (parser.isSet(task)) {
        bft::live::Task t;
        if (!bft::live::task_from_name(parser.value(task).toStdString(), &t)) {
            std::fprintf(stderr, "bft-studio: unknown task '%s'\n", qPrintable(parser.value(task)));
            return 2;
        }
        const QStringList ids = window.sampleIds(t);
        if (!parser.isSet(sample) && !ids.isEmpty())
            window.openSample(t, ids.first());
        else
            window.setTask(t);
    }
    if (parser.isSet(sample))
        window.openSample(window.document()->task(), parser.value(sample));
    for (const QString& file : parser.positionalArguments()) {
        if (file.endsWith(QStringLiteral(".bftproj")))
            window.openProject(file);
        else if (file.endsWith(QStringLiteral(".pth")) || file.endsWith(QStringLiteral(".pt")))
            window.openCheckpoint(file);
        else
            window.openImage(file);
    }
    if (parser.isSet(previewSize) || parser.isSet(fullSize) || parser.isSet(fp32Preview)) {
        bft::studio::Settings s = window.document()->settings();
        if (parser.isSet(previewSize))
            s.previewSize = parser.value(previewSize).toInt();
        if (parser.isSet(fullSize))
            s.fullSize = parser.value(fullSize).toInt();
        if (parser.isSet(fp32Preview))
            s.previewBf16 = false;
        window.document()->setSettings(s);
    }
    window.show();

    if (parser.isSet(finetune)) {
        bft::studio::FinetunePanel* panel = window.finetunePanel();
        if (auto* dock = qobject_cast<QDockWidget*>(panel->parentWidget()))
            dock->raise();
        if (parser.isSet(finetuneStart))
            QObject::connect(panel, &bft::studio::FinetunePanel::datasetChecked, panel, [panel](bool ok) {
                if (ok)
                    panel->start();
            });
        panel->setDataset(parser.value(finetune));
    }

    if (parser.isSet(benchDrag)) {
        const QString out = parser.value(benchDrag);
        bft::studio::DragBenchOptions o;
        o.seconds = parser.value(benchSeconds).toDouble();
        // Start once the first full-size result is in (the model is loaded and warm). The flag
        // outlives this block: the lambda runs from the event loop below.
        auto started = std::make_shared<bool>(false);
        QObject::connect(window.session(), &bft::studio::LiveSession::resultShown, &window,
                         [&window, started, o, out](const bft::studio::ResultPtr&, bool preview) {
                             if (preview || *started)
                                 return;
                             *started = true;
                             QTimer::singleShot(200, &window, [&window, o, out] {
                                 const QJsonObject report = bft::studio::runDragBench(&window, o);
                                 const QByteArray json = QJsonDocument(report).toJson();
                                 QSaveFile f(out);
                                 if (!f.open(QIODevice::WriteOnly) || f.write(json) < 0 || !f.commit())
                                     std::fprintf(stderr, "bft-studio: cannot write %s\n", qPrintable(out));
                                 std::printf("%s", json.constData());
                                 window.document()->setClean(); // the bench's drag is not the person's work
                                 QApplication::quit();
                             });
                         });
    }

    if (parser.isSet(shot)) {
        const QString out = parser.value(shot);
        const int level = parser.value(filmLevel).toInt();
        auto grab = [&window, out] {
            window.grab().save(out);
            std::printf("wrote %s\n", qPrintable(out));
            window.finetunePanel()->stop();
            window.document()->setClean();
            QApplication::quit();
        };
        if (parser.isSet(finetune) && parser.isSet(finetuneStart)) {
            auto sheets = std::make_shared<int>(0);
            QObject::connect(window.finetunePanel(), &bft::studio::FinetunePanel::previewShown, &window, [&window, grab, sheets](int) {
                if (++*sheets == 3)
                    QTimer::singleShot(300, &window, grab);
            });
        } else {
            QObject::connect(window.session(), &bft::studio::LiveSession::resultShown, &window,
                             [&window, grab, level](const bft::studio::ResultPtr&, bool preview) {
                                 if (preview)
                                     return;
                                 if (level > 0)
                                     window.filmViewer()->select(level, QStringLiteral("g2i"), QStringLiteral("gamma"),
                                                                 bft::studio::FilmViewer::Pca);
                                 QTimer::singleShot(300, &window, grab); // let the views repaint
                             });
        }
        QTimer::singleShot(parser.isSet(finetuneStart) ? 600000 : 60000, &window, [] {
            std::fprintf(stderr, "bft-studio: no result in time for the screenshot\n");
            QApplication::exit(1);
        });
    }
    return QApplication::exec();
}
