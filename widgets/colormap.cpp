#include "colormap.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace bft::studio {

QColor viridis(double t)
{
    // Nine samples of matplotlib's viridis, linearly interpolated.
    static const double stops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                       {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    if (!std::isfinite(t))
        t = 0;
    t = std::clamp(t, 0.0, 1.0) * 8.0;
    const int i = std::min(7, static_cast<int>(t));
    const double f = t - i;
    auto mix = [&](int c) { return static_cast<int>(std::lround(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f)); };
    return QColor(mix(0), mix(1), mix(2));
}

QImage colorize(const float* values, int width, int height, float lo, float hi, bool zeroIsHole)
{
    QImage out(width, height, QImage::Format_ARGB32);
    const float span = hi > lo ? hi - lo : 1.0f;
    QRgb lut[256];
    for (int i = 0; i < 256; ++i)
        lut[i] = viridis(i / 255.0).rgb();
    for (int y = 0; y < height; ++y) {
        auto* line = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < width; ++x) {
            const float v = values[static_cast<size_t>(y) * width + x];
            if (!std::isfinite(v) || (zeroIsHole && v == 0.0f)) {
                line[x] = qRgba(0, 0, 0, 0);
                continue;
            }
            const int i = std::clamp(static_cast<int>((v - lo) / span * 255.0f + 0.5f), 0, 255);
            line[x] = lut[i];
        }
    }
    return out;
}

ColorLegend::ColorLegend(QWidget* parent) : QWidget(parent) { setMinimumHeight(34); }

void ColorLegend::setRange(double lo, double hi, const QString& unit)
{
    lo_ = lo;
    hi_ = hi;
    unit_ = unit;
    update();
}

QSize ColorLegend::sizeHint() const { return {220, 36}; }

void ColorLegend::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const QRect bar(4, 2, width() - 8, 12);
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 8; ++i)
        g.setColorAt(i / 8.0, viridis(i / 8.0));
    p.fillRect(bar, g);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    const QRect text(4, bar.bottom() + 2, width() - 8, height() - bar.bottom() - 2);
    const QString suffix = unit_.isEmpty() ? QString() : QLatin1Char(' ') + unit_;
    p.drawText(text, Qt::AlignLeft | Qt::AlignTop, QString::number(lo_, 'g', 4) + suffix);
    p.drawText(text, Qt::AlignRight | Qt::AlignTop, QString::number(hi_, 'g', 4) + suffix);
}

} // namespace bft::studio
