// A live chart of training curves (Qt Charts): each curve drawn raw (faint) and smoothed (an
// exponential moving average, solid), x = step, y linear or logarithmic. Axes follow the data.
#pragma once

#include <QChartView>
#include <QColor>
#include <QString>

#include <vector>

class QLineSeries;
class QAbstractAxis;

namespace bft::studio {

class LossChart : public QChartView {
    Q_OBJECT
public:
    explicit LossChart(const QString& title, bool logScale, QWidget* parent = nullptr);
    int addCurve(const QString& name, const QColor& color, bool smoothed = true); // returns its index
    void append(int curve, double step, double value);
    void clear();
    int pointCount() const; // raw points over all curves

private:
    struct Curve {
        QLineSeries* raw = nullptr;
        QLineSeries* smooth = nullptr;
        double ema = 0;
        int n = 0;
    };
    void growAxes(double x, double y);
    std::vector<Curve> curves_;
    QAbstractAxis* x_;
    QAbstractAxis* y_;
    bool log_;
    double xMax_ = 1, yMin_ = 0, yMax_ = 0;
    bool empty_ = true;
};

} // namespace bft::studio
