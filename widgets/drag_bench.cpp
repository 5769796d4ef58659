#include "drag_bench.h"

#include "canvas.h"
#include "live_session.h"
#include "main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QMouseEvent>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <vector>

namespace bft::studio {

namespace {

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1))));
    return v[i];
}

void send(QWidget* w, QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons)
{
    QMouseEvent e(type, QPointF(pos), w->mapToGlobal(QPointF(pos)), button, buttons, Qt::NoModifier);
    QApplication::sendEvent(w, &e);
}

} // namespace

QJsonObject runDragBench(MainWindow* window, const DragBenchOptions& o)
{
    LiveSession* live = window->session();
    CanvasView* view = window->guideView();
    const live::Skeleton& sk = window->document()->skeleton();
    const QPointF centre(sk[o.keypoint].x, sk[o.keypoint].y);
    const double radius = 0.08 * std::max(window->document()->source().width(), window->document()->source().height());

    std::vector<double> previewLatency, fullLatency, gaps, shownAt;
    QElapsedTimer clock;
    clock.start();
    const long long forwardsBefore = live->worker()->forwardsStarted();
    const long long requestsBefore = live->requestsMade();
    bool released = false;
    QEventLoop loop;
    auto conn = QObject::connect(live, &LiveSession::resultShown, &loop, [&](const ResultPtr& r, bool preview) {
        if (preview) {
            previewLatency.push_back(r->milliseconds);
            shownAt.push_back(clock.nsecsElapsed() / 1e6);
        } else if (released) {
            fullLatency.push_back(r->milliseconds);
            loop.quit();
        }
    });

    // Heartbeat: the GUI thread's longest time away from its event loop.
    QTimer heartbeat;
    heartbeat.setInterval(1);
    heartbeat.setTimerType(Qt::PreciseTimer);
    double lastBeat = 0;
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
        const double now = clock.nsecsElapsed() / 1e6;
        gaps.push_back(now - lastBeat);
        lastBeat = now;
    });

    QWidget* vp = view->viewport();
    send(vp, QEvent::MouseButtonPress, view->mapFromScene(centre), Qt::LeftButton, Qt::LeftButton);
    QTimer mouse;
    mouse.setInterval(static_cast<int>(std::lround(1000.0 / o.mouseHz)));
    mouse.setTimerType(Qt::PreciseTimer);
    const double dragStart = clock.nsecsElapsed() / 1e6;
    QObject::connect(&mouse, &QTimer::timeout, [&] {
        const double t = (clock.nsecsElapsed() / 1e6 - dragStart) / 1000.0;
        if (t >= o.seconds) {
            mouse.stop();
            released = true;
            send(vp, QEvent::MouseButtonRelease, view->mapFromScene(centre), Qt::LeftButton, Qt::NoButton);
            return;
        }
        const double a = 2 * M_PI * t / 2.0; // one turn every two seconds
        const QPointF p = centre + QPointF(radius * std::cos(a) - radius, radius * std::sin(a));
        send(vp, QEvent::MouseMove, view->mapFromScene(p), Qt::NoButton, Qt::LeftButton);
    });
    lastBeat = clock.nsecsElapsed() / 1e6;
    heartbeat.start();
    mouse.start();
    QTimer::singleShot(static_cast<int>(o.seconds * 1000) + 60000, &loop, &QEventLoop::quit); // give up eventually
    loop.exec();
    heartbeat.stop();
    QObject::disconnect(conn);

    // Frames per second over the drag: previews shown between the first and the release.
    const double dragMs = o.seconds * 1000.0;
    QJsonObject r;
    r[QStringLiteral("model")] = live->modelDescription();
    r[QStringLiteral("device")] = live->deviceDescription();
    r[QStringLiteral("preview_size")] = window->document()->settings().previewSize;
    r[QStringLiteral("full_size")] = window->document()->settings().fullSize;
    r[QStringLiteral("preview_bf16")] = window->document()->settings().previewBf16 && live->bf16Available();
    r[QStringLiteral("drag_seconds")] = o.seconds;
    r[QStringLiteral("mouse_events_per_s")] = o.mouseHz;
    r[QStringLiteral("preview_frames")] = static_cast<int>(previewLatency.size());
    r[QStringLiteral("preview_fps")] = previewLatency.size() / (dragMs / 1000.0);
    r[QStringLiteral("preview_ms_median")] = percentile(previewLatency, 0.5);
    r[QStringLiteral("preview_ms_p90")] = percentile(previewLatency, 0.9);
    r[QStringLiteral("full_ms_after_release")] = fullLatency.empty() ? -1.0 : fullLatency.front();
    r[QStringLiteral("gui_max_gap_ms")] = gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end());
    r[QStringLiteral("gui_p99_gap_ms")] = percentile(gaps, 0.99);
    r[QStringLiteral("requests")] = static_cast<double>(live->requestsMade() - requestsBefore);
    r[QStringLiteral("forwards")] = static_cast<double>(live->worker()->forwardsStarted() - forwardsBefore);
    return r;
}

} // namespace bft::studio
