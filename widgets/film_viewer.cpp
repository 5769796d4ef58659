#include "film_viewer.h"

#include "canvas.h"
#include "colormap.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QGraphicsPixmapItem>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <exception>
#include <set>

namespace bft::studio {

FilmViewer::FilmViewer(QWidget* parent) : QWidget(parent)
{
    level_ = new QComboBox;
    direction_ = new QComboBox;
    direction_->addItem(tr("guide → input"), QStringLiteral("g2i"));
    direction_->addItem(tr("input → guide"), QStringLiteral("i2g"));
    direction_->setToolTip(tr("Which stream predicts the maps and which one they modulate"));
    kind_ = new QComboBox;
    kind_->addItem(tr("γ (scale)"), QStringLiteral("gamma"));
    kind_->addItem(tr("β (shift)"), QStringLiteral("beta"));
    summary_ = new QComboBox;
    summary_->addItem(tr("One channel"), Channel);
    summary_->addItem(tr("Mean over channels"), Mean);
    summary_->addItem(tr("Max |value| over channels"), MaxAbs);
    summary_->addItem(tr("First 3 principal components (RGB)"), Pca);
    channel_ = new QSpinBox;
    channel_->setPrefix(tr("channel "));
    overlay_ = new QCheckBox(tr("Overlay on image"));
    opacity_ = new QSlider(Qt::Horizontal);
    opacity_->setRange(0, 100);
    opacity_->setValue(60);
    opacity_->setToolTip(tr("Overlay opacity"));
    view_ = new CanvasView;
    legend_ = new ColorLegend;
    hover_ = new QLabel;
    hover_->setMinimumWidth(200);
    empty_ = new QLabel(tr("No γ/β maps yet: they arrive with the next full-size result."));
    empty_->setWordWrap(true);
    auto* exportButton = new QPushButton(tr("Export…"));
    exportButton->setToolTip(tr("Save what is shown as a PNG, or the values as .npy"));

    auto* grid = new QGridLayout;
    grid->addWidget(new QLabel(tr("Level")), 0, 0);
    grid->addWidget(level_, 0, 1);
    grid->addWidget(new QLabel(tr("Direction")), 0, 2);
    grid->addWidget(direction_, 0, 3);
    grid->addWidget(new QLabel(tr("Map")), 1, 0);
    grid->addWidget(kind_, 1, 1);
    grid->addWidget(new QLabel(tr("Show")), 1, 2);
    grid->addWidget(summary_, 1, 3);
    grid->addWidget(channel_, 2, 1);
    grid->addWidget(overlay_, 2, 2);
    grid->addWidget(opacity_, 2, 3);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(hover_, 1);
    bottom->addWidget(exportButton);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(grid);
    layout->addWidget(empty_);
    layout->addWidget(view_, 1);
    layout->addWidget(legend_);
    layout->addLayout(bottom);

    for (QComboBox* c : {level_, direction_, kind_, summary_})
        connect(c, &QComboBox::currentIndexChanged, this, [this] { recompute(); });
    connect(channel_, &QSpinBox::valueChanged, this, [this] { recompute(); });
    // Overlay and opacity only re-compose the picture: the summary (PCA can take a while) stays.
    connect(overlay_, &QCheckBox::toggled, this, [this] { compose(); });
    connect(opacity_, &QSlider::valueChanged, this, [this] { compose(); });
    connect(view_, &CanvasView::hovered, this, [this](QPointF p) { hover_->setText(valueText(p)); });
    connect(exportButton, &QPushButton::clicked, this, &FilmViewer::exportDialog);
    rebuildChoices();
}

void FilmViewer::setMaps(Maps maps, const QImage& image)
{
    maps_ = maps && !maps->empty() ? std::move(maps) : nullptr;
    image_ = image;
    rebuildChoices();
    recompute();
}

void FilmViewer::rebuildChoices()
{
    std::set<int> levels;
    if (maps_)
        for (const auto& kv : *maps_) {
            const auto pos = kv.first.rfind("_L");
            if (pos != std::string::npos)
                levels.insert(std::atoi(kv.first.c_str() + pos + 2));
        }
    const int keep = level_->currentData().toInt();
    const QSignalBlocker block(level_);
    level_->clear();
    for (int l : levels)
        level_->addItem(tr("Level %1").arg(l), l);
    const int i = level_->findData(keep);
    level_->setCurrentIndex(i >= 0 ? i : 0);
    empty_->setVisible(!hasMaps());
    view_->setVisible(hasMaps());
}

void FilmViewer::select(int level, const QString& direction, const QString& kind, Summary summary, int channel)
{
    const QSignalBlocker b1(level_), b2(direction_), b3(kind_), b4(summary_), b5(channel_);
    level_->setCurrentIndex(std::max(0, level_->findData(level)));
    direction_->setCurrentIndex(std::max(0, direction_->findData(direction)));
    kind_->setCurrentIndex(std::max(0, kind_->findData(kind)));
    summary_->setCurrentIndex(std::max(0, summary_->findData(summary)));
    recompute(); // sets the channel range first
    channel_->setValue(channel);
    recompute();
}

QString FilmViewer::currentKey() const
{
    return QStringLiteral("%1_%2_L%3").arg(kind_->currentData().toString(), direction_->currentData().toString()).arg(level_->currentData().toInt());
}

void FilmViewer::recompute()
{
    shown_ = {};
    picture_ = {};
    if (!hasMaps()) {
        view_->setBackground(QImage());
        hover_->setText(QString());
        legend_->setRange(0, 0, QString());
        return;
    }
    const auto it = maps_->find(currentKey().toStdString());
    // The input -> guide direction has one level fewer in the ResNet (the deepest guide features
    // are not modulated): say so rather than show nothing.
    if (it == maps_->end() || it->second.empty()) {
        view_->setBackground(QImage());
        hover_->setText(tr("not predicted at this level"));
        legend_->setRange(0, 0, QString());
        return;
    }
    const live::Raster& m = it->second;
    const auto summary = static_cast<Summary>(summary_->currentData().toInt());
    channel_->setEnabled(summary == Channel);
    legend_->setVisible(summary != Pca); // the picture is RGB then: a colour bar would mislead
    channel_->setRange(0, std::max(0, m.channels - 1));
    channel_->setSuffix(QStringLiteral(" / %1").arg(m.channels));
    const size_t n = static_cast<size_t>(m.height) * m.width;
    shown_.height = m.height;
    shown_.width = m.width;
    shown_.channels = summary == Pca ? 3 : 1;
    shown_.values.assign(shown_.channels * n, 0.0f);
    switch (summary) {
    case Channel: std::copy_n(m.values.begin() + static_cast<long>(std::min(channel_->value(), m.channels - 1) * n), n, shown_.values.begin()); break;
    case Mean:
        for (int c = 0; c < m.channels; ++c)
            for (size_t p = 0; p < n; ++p)
                shown_.values[p] += m.values[c * n + p] / static_cast<float>(m.channels);
        break;
    case MaxAbs:
        for (int c = 0; c < m.channels; ++c)
            for (size_t p = 0; p < n; ++p)
                shown_.values[p] = std::max(shown_.values[p], std::abs(m.values[c * n + p]));
        break;
    case Pca:
        // Fewer components than 3 where the map has fewer channels: the rest stay zero.
        try {
            const live::Raster pcs = live::principal_components(m, 3);
            std::copy(pcs.values.begin(), pcs.values.end(), shown_.values.begin());
        } catch (const std::exception& e) { // NaN in a diverged model's maps
            Q_EMIT message(tr("No principal components of this map: %1").arg(QString::fromStdString(e.what())));
        }
        break;
    }
    const auto [lo, hi] = std::minmax_element(shown_.values.begin(), shown_.values.end());
    lo_ = *lo;
    hi_ = *hi;
    if (summary == Pca) {
        // Each component stretched to its own range, as RGB.
        picture_ = QImage(m.width, m.height, QImage::Format_RGB888);
        for (int c = 0; c < 3; ++c) {
            const auto [a, b] = std::minmax_element(shown_.values.begin() + c * n, shown_.values.begin() + (c + 1) * n);
            const float span = *b > *a ? *b - *a : 1.0f;
            for (int y = 0; y < m.height; ++y) {
                uchar* line = picture_.scanLine(y);
                for (int x = 0; x < m.width; ++x)
                    line[x * 3 + c] = static_cast<uchar>(std::lround((shown_.values[c * n + y * m.width + x] - *a) / span * 255.0f));
            }
        }
        legend_->setRange(lo_, hi_, QString()); // each component is stretched to its own range
    } else {
        picture_ = colorize(shown_.values.data(), m.width, m.height, lo_, hi_);
        legend_->setRange(lo_, hi_, QString());
    }
    compose();
}

void FilmViewer::compose()
{
    if (picture_.isNull())
        return;
    // Shown at the image's size (maps are at the level's resolution), nearest-neighbour so the
    // level's pixels stay visible.
    const QSize size = image_.isNull() ? picture_.size() * std::max(1, 256 / std::max(1, picture_.width())) : image_.size();
    QImage canvas(size, QImage::Format_RGB32);
    canvas.fill(Qt::black);
    QPainter p(&canvas);
    if (overlay_->isChecked() && !image_.isNull()) {
        p.drawImage(canvas.rect(), image_);
        p.setOpacity(opacity_->value() / 100.0);
    }
    p.drawImage(canvas.rect(), picture_);
    p.end();
    view_->setBackground(canvas);
}

QString FilmViewer::valueText(QPointF pos) const
{
    if (shown_.empty() || picture_.isNull())
        return {};
    const QRectF area = view_->sceneRect();
    if (!area.contains(pos))
        return {};
    const int x = std::clamp(static_cast<int>(pos.x() / area.width() * shown_.width), 0, shown_.width - 1);
    const int y = std::clamp(static_cast<int>(pos.y() / area.height() * shown_.height), 0, shown_.height - 1);
    if (shown_.channels == 3)
        return tr("(%1, %2): %3, %4, %5")
            .arg(x)
            .arg(y)
            .arg(shown_.at(0, y, x), 0, 'g', 4)
            .arg(shown_.at(1, y, x), 0, 'g', 4)
            .arg(shown_.at(2, y, x), 0, 'g', 4);
    return tr("(%1, %2): %3").arg(x).arg(y).arg(shown_.at(0, y, x), 0, 'g', 5);
}

bool FilmViewer::exportPng(const QString& path, QString* error) const
{
    if (picture_.isNull()) {
        *error = tr("Nothing to export.");
        return false;
    }
    // QImage::save writes through QSaveFile-like temp handling only for some formats: go through
    // a temporary name and rename, so a failed write never leaves half a file.
    QSaveFile file(path); // atomic: a failed write leaves what was there
    if (!file.open(QIODevice::WriteOnly) || !picture_.save(&file, "PNG") || !file.commit()) {
        *error = tr("Cannot write %1.").arg(path);
        return false;
    }
    return true;
}

bool FilmViewer::exportNpy(const QString& path, QString* error) const
{
    if (shown_.empty()) {
        *error = tr("Nothing to export.");
        return false;
    }
    try {
        live::write_npy(path.toStdString(), shown_);
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

void FilmViewer::exportDialog()
{
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export γ/β map"), currentKey() + QStringLiteral(".png"),
                                                      tr("PNG image (*.png);;NumPy array (*.npy)"), &filter);
    if (path.isEmpty())
        return;
    QString error;
    const bool ok = path.endsWith(QStringLiteral(".npy"), Qt::CaseInsensitive) ? exportNpy(path, &error) : exportPng(path, &error);
    if (!ok)
        QMessageBox::warning(this, tr("Export failed"), error);
    else
        Q_EMIT message(tr("Saved %1").arg(path));
}

} // namespace bft::studio
