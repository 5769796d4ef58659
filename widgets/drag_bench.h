// The editor's own benchmark (`bft-studio --bench-drag REPORT.json`): drags a keypoint in a circle
// with synthetic mouse events at a steady rate, as a person would, and measures what the person
// sees - preview frames per second, the latency of previews and of the full-size result after
// release - and how long the GUI thread ever goes without turning its event loop (a 1 ms
// heartbeat timer records the largest gaps while inference runs).
#pragma once

#include <QJsonObject>

namespace bft::studio {

class MainWindow;

struct DragBenchOptions {
    double seconds = 5.0;
    double mouseHz = 60.0; // mouse move events per second
    int keypoint = 4;      // right wrist
};

// The window must show a pose document with a model loaded. Blocks (running the event loop)
// for about `seconds` plus the final full-size forward.
QJsonObject runDragBench(MainWindow* window, const DragBenchOptions& options);

} // namespace bft::studio
