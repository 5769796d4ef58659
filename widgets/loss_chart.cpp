#include "loss_chart.h"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace bft::studio {

LossChart::LossChart(const QString& title, bool logScale, QWidget* parent) : QChartView(parent), log_(logScale)
{
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(2, 2, 2, 2));
    auto* x = new QValueAxis;
    x->setTitleText(tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    x->setRange(0, 1);
    x_ = x;
    if (logScale) {
        auto* y = new QLogValueAxis;
        y->setBase(10);
        y->setLabelFormat(QStringLiteral("%g"));
        y->setRange(0.01, 10);
        y_ = y;
    } else {
        auto* y = new QValueAxis;
        y->setRange(0, 1);
        y_ = y;
    }
    chart->addAxis(x_, Qt::AlignBottom);
    chart->addAxis(y_, Qt::AlignLeft);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
}

int LossChart::addCurve(const QString& name, const QColor& color, bool smoothed)
{
    Curve c;
    c.raw = new QLineSeries;
    QColor faint = color;
    if (smoothed)
        faint.setAlpha(70);
    c.raw->setPen(QPen(faint, 1));
    c.raw->setName(smoothed ? name + tr(" (raw)") : name);
    chart()->addSeries(c.raw);
    c.raw->attachAxis(x_);
    c.raw->attachAxis(y_);
    if (smoothed) {
        c.smooth = new QLineSeries;
        c.smooth->setPen(QPen(color, 2));
        c.smooth->setName(name);
        chart()->addSeries(c.smooth);
        c.smooth->attachAxis(x_);
        c.smooth->attachAxis(y_);
        // One legend entry per curve: the smoothed line names it.
        const auto markers = chart()->legend()->markers(c.raw);
        for (auto* m : markers)
            m->setVisible(false);
    }
    curves_.push_back(c);
    return static_cast<int>(curves_.size()) - 1;
}

void LossChart::append(int curve, double step, double value)
{
    if (curve < 0 || curve >= static_cast<int>(curves_.size()) || !std::isfinite(value))
        return;
    if (log_)
        value = std::max(value, 1e-4); // a log axis has no zero
    Curve& c = curves_[static_cast<size_t>(curve)];
    c.raw->append(step, value);
    if (c.smooth) {
        // EMA with a warm-up: the first points are averaged, not dragged towards zero.
        const double alpha = std::max(0.1, 1.0 / (c.n + 1));
        c.ema = c.n == 0 ? value : c.ema + alpha * (value - c.ema);
        c.smooth->append(step, c.ema);
    }
    ++c.n;
    growAxes(step, value);
}

void LossChart::growAxes(double x, double y)
{
    if (empty_) {
        yMin_ = yMax_ = y;
        empty_ = false;
    }
    xMax_ = std::max(xMax_, x);
    yMin_ = std::min(yMin_, y);
    yMax_ = std::max(yMax_, y);
    x_->setRange(0, xMax_);
    if (log_)
        y_->setRange(std::pow(10, std::floor(std::log10(yMin_))), std::pow(10, std::ceil(std::log10(yMax_ * 1.01))));
    else
        y_->setRange(std::min(0.0, yMin_), yMax_ > yMin_ ? yMax_ * 1.05 : yMin_ + 1);
}

void LossChart::clear()
{
    for (Curve& c : curves_) {
        c.raw->clear();
        if (c.smooth)
            c.smooth->clear();
        c.n = 0;
        c.ema = 0;
    }
    empty_ = true;
    xMax_ = 1;
}

int LossChart::pointCount() const
{
    int n = 0;
    for (const Curve& c : curves_)
        n += static_cast<int>(c.raw->count());
    return n;
}

} // namespace bft::studio
