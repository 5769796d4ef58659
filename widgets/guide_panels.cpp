#include "guide_panels.h"

#include "colormap.h"
#include "guide_commands.h"
#include "guide_tools.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QSaveFile>
#include <QSlider>
#include <QSpinBox>
#include <QUndoStack>
#include <QVBoxLayout>

#include <exception>

namespace bft::studio {

namespace {

QString fileFilterImages() { return QObject::tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)"); }

} // namespace

// --- pose -------------------------------------------------------------------------------------

PosePanel::PosePanel(Document* doc, PoseTool* tool, QWidget* parent) : QWidget(parent), doc_(doc), tool_(tool)
{
    auto* layout = new QVBoxLayout(this);
    auto* help = new QLabel(tr("Drag a keypoint to move it. Double-click a keypoint to hide or restore it. "
                               "Space + drag or the middle button pans; the wheel zooms."));
    help->setWordWrap(true);
    layout->addWidget(help);
    selected_ = new QLabel;
    layout->addWidget(selected_);
    toggle_ = new QPushButton;
    layout->addWidget(toggle_);
    auto* mirror = new QPushButton(tr("Mirror left/right"));
    auto* reset = new QPushButton(tr("Reset to standing pose"));
    auto* restore = new QPushButton(tr("Restore all hidden"));
    auto* import = new QPushButton(tr("Import OpenPose JSON…"));
    auto* exportButton = new QPushButton(tr("Export OpenPose JSON…"));
    for (QPushButton* b : {mirror, reset, restore, import, exportButton})
        layout->addWidget(b);
    layout->addStretch(1);

    connect(tool_, &PoseTool::selectionChanged, this, &PosePanel::updateSelection);
    connect(doc_, &Document::guideChanged, this, &PosePanel::updateSelection);
    connect(toggle_, &QPushButton::clicked, this, [this] {
        const int k = tool_->selected();
        if (k < 0)
            return;
        live::Skeleton s = doc_->skeleton();
        s[k].present = !s[k].present;
        const QString name = QString::fromLatin1(live::keypoint_name(k));
        doc_->undoStack()->push(new SetSkeletonCommand(doc_, s, s[k].present ? tr("Restore %1").arg(name) : tr("Hide %1").arg(name)));
    });
    connect(mirror, &QPushButton::clicked, this, [this] {
        // Mirror about the image's vertical centre line; left and right keypoints trade places.
        const live::Skeleton& s = doc_->skeleton();
        live::Skeleton m{};
        const float w = static_cast<float>(doc_->source().width());
        for (int k = 0; k < live::kKeypoints; ++k) {
            const live::Keypoint& p = s[live::mirrored_keypoint(k)];
            m[k] = {w - 1 - p.x, p.y, p.present};
        }
        doc_->undoStack()->push(new SetSkeletonCommand(doc_, m, tr("Mirror pose")));
    });
    connect(reset, &QPushButton::clicked, this, [this] {
        doc_->undoStack()->push(new SetSkeletonCommand(
            doc_, live::default_skeleton(doc_->source().width(), doc_->source().height()), tr("Reset pose")));
    });
    connect(restore, &QPushButton::clicked, this, [this] {
        live::Skeleton s = doc_->skeleton();
        for (live::Keypoint& p : s)
            p.present = true;
        doc_->undoStack()->push(new SetSkeletonCommand(doc_, s, tr("Restore all keypoints")));
    });
    connect(import, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import OpenPose JSON"), QString(), tr("OpenPose JSON (*.json)"));
        QString error;
        if (!path.isEmpty() && !importJson(path, &error))
            QMessageBox::warning(this, tr("Import failed"), error);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export OpenPose JSON"), QStringLiteral("pose.json"), tr("OpenPose JSON (*.json)"));
        QString error;
        if (!path.isEmpty() && !exportJson(path, &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
    updateSelection();
}

void PosePanel::updateSelection()
{
    const int k = tool_->selected();
    toggle_->setEnabled(k >= 0);
    if (k < 0) {
        selected_->setText(tr("No keypoint selected"));
        toggle_->setText(tr("Hide keypoint"));
        return;
    }
    const bool present = doc_->skeleton()[k].present;
    selected_->setText(tr("Selected: %1").arg(QString::fromLatin1(live::keypoint_name(k))));
    toggle_->setText(present ? tr("Hide keypoint") : tr("Restore keypoint"));
}

bool PosePanel::importJson(const QString& path, QString* error)
{
    try {
        const live::PoseFile f = live::read_pose_json(path.toStdString());
        if (f.people.empty()) {
            *error = tr("%1: no person in the file").arg(path);
            return false;
        }
        live::Skeleton s = f.people.front();
        // A file made for another canvas size is scaled to this image.
        if (f.canvas_width > 0 && f.canvas_height > 0 && !doc_->source().isNull()) {
            const float sx = static_cast<float>(doc_->source().width()) / f.canvas_width;
            const float sy = static_cast<float>(doc_->source().height()) / f.canvas_height;
            for (live::Keypoint& p : s) {
                p.x = (p.x + 0.5f) * sx - 0.5f;
                p.y = (p.y + 0.5f) * sy - 0.5f;
            }
        }
        doc_->undoStack()->push(new SetSkeletonCommand(doc_, s, tr("Import pose")));
        if (f.people.size() > 1)
            Q_EMIT message(tr("%1 has %2 people; the first was imported").arg(path).arg(f.people.size()));
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

bool PosePanel::exportJson(const QString& path, QString* error)
{
    try {
        live::write_pose_json(path.toStdString(), doc_->skeleton(), doc_->source().width(), doc_->source().height());
        Q_EMIT message(tr("Saved %1").arg(path));
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

// --- depth ------------------------------------------------------------------------------------

DepthPanel::DepthPanel(Document* doc, DepthTool* tool, QWidget* parent) : QWidget(parent), doc_(doc), tool_(tool)
{
    auto* layout = new QVBoxLayout(this);
    auto* help = new QLabel(tr("Paint depth readings into the low-resolution grid, or erase them; "
                               "Ctrl+click picks the value under the cursor. Empty cells take the nearest reading."));
    help->setWordWrap(true);
    layout->addWidget(help);
    auto* import = new QPushButton(tr("Import depth map…"));
    auto* exportButton = new QPushButton(tr("Export low-res depth…"));
    auto* clear = new QPushButton(tr("Clear all readings"));
    layout->addWidget(import);
    layout->addWidget(exportButton);
    auto* form = new QFormLayout;
    factor_ = new QComboBox;
    for (int f : {4, 8, 16})
        factor_->addItem(tr("×%1").arg(f), f);
    factor_->setCurrentIndex(1);
    factor_->setToolTip(tr("How much lower the input's resolution is than the result's"));
    form->addRow(tr("Factor"), factor_);
    auto* paint = new QRadioButton(tr("Paint"));
    erase_ = new QRadioButton(tr("Erase"));
    paint->setChecked(true);
    auto* modes = new QHBoxLayout;
    modes->addWidget(paint);
    modes->addWidget(erase_);
    form->addRow(tr("Brush"), modes);
    value_ = new QDoubleSpinBox;
    value_->setRange(0.05, 10.0);
    value_->setSingleStep(0.1);
    value_->setDecimals(2);
    value_->setSuffix(tr(" m"));
    value_->setValue(tool_->value());
    form->addRow(tr("Value"), value_);
    radius_ = new QSpinBox;
    radius_->setRange(0, 8);
    radius_->setValue(1);
    radius_->setSuffix(tr(" cells"));
    form->addRow(tr("Radius"), radius_);
    auto* opacity = new QSlider(Qt::Horizontal);
    opacity->setRange(0, 100);
    opacity->setValue(65);
    form->addRow(tr("Overlay"), opacity);
    layout->addLayout(form);
    legend_ = new ColorLegend;
    const live::DepthRange r = doc_->depthRange();
    legend_->setRange(r.near_m, r.far_m, tr("m"));
    layout->addWidget(legend_);
    layout->addWidget(clear);
    layout->addStretch(1);

    connect(value_, &QDoubleSpinBox::valueChanged, tool_, &DepthTool::setValue);
    connect(tool_, &DepthTool::valuePicked, value_, &QDoubleSpinBox::setValue);
    connect(radius_, &QSpinBox::valueChanged, tool_, &DepthTool::setRadius);
    connect(erase_, &QRadioButton::toggled, tool_, &DepthTool::setErasing);
    connect(opacity, &QSlider::valueChanged, this, [this](int v) { tool_->setOpacity(v / 100.0); });
    connect(factor_, &QComboBox::activated, this, [this] {
        const int f = factor_->currentData().toInt();
        if (f == doc_->depthFactor())
            return;
        doc_->undoStack()->push(new SetLowDepthCommand(doc_, doc_->lowDepthFor(f), f, tr("Depth factor ×%1").arg(f)));
    });
    connect(doc_, &Document::guideChanged, this, [this] {
        const live::DepthRange shown = doc_->depthDisplayRange();
        legend_->setRange(shown.near_m, shown.far_m, tr("m"));
        const int i = factor_->findData(doc_->depthFactor());
        if (i >= 0)
            factor_->setCurrentIndex(i);
    });
    connect(clear, &QPushButton::clicked, this, [this] {
        live::Raster g = doc_->lowDepth();
        std::fill(g.values.begin(), g.values.end(), 0.0f);
        doc_->undoStack()->push(new SetLowDepthCommand(doc_, g, doc_->depthFactor(), tr("Clear depth")));
    });
    connect(import, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import depth map"), QString(),
                                                          tr("Depth maps (*.png *.npy)"));
        QString error;
        if (!path.isEmpty() && !importDepth(path, &error))
            QMessageBox::warning(this, tr("Import failed"), error);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export low-resolution depth"), QStringLiteral("depth-lowres.png"),
                                                          tr("16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)"));
        QString error;
        if (!path.isEmpty() && !exportDepth(path, &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
}

bool DepthPanel::importDepth(const QString& path, QString* error)
{
    try {
        const live::Raster metres = live::read_depth(path.toStdString());
        const QSize src = doc_->source().size();
        if (!src.isEmpty() && (metres.width * src.height() - metres.height * src.width()) != 0) {
            // Different aspect: still usable (it is stretched to the image), but say so.
            Q_EMIT message(tr("%1 is %2x%3, the image %4x%5: stretched to fit")
                               .arg(path)
                               .arg(metres.width)
                               .arg(metres.height)
                               .arg(src.width())
                               .arg(src.height()));
        }
        // Not undoable as such (it replaces the imported map); the grid change it makes is.
        live::Raster before = doc_->lowDepth();
        const int factor = doc_->depthFactor();
        doc_->setDepthMap(metres, path);
        const live::Raster after = doc_->lowDepth();
        doc_->setLowDepth(before);
        doc_->undoStack()->push(new SetLowDepthCommand(doc_, after, factor, tr("Import depth")));
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

bool DepthPanel::exportDepth(const QString& path, QString* error)
{
    try {
        live::write_depth(path.toStdString(), doc_->lowDepth());
        Q_EMIT message(tr("Saved %1").arg(path));
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

// --- texture ----------------------------------------------------------------------------------

TexturePanel::TexturePanel(Document* doc, TextureTool* tool, QWidget* parent) : QWidget(parent), doc_(doc), tool_(tool)
{
    auto* layout = new QVBoxLayout(this);
    auto* help = new QLabel(tr("Place texture patches on the sketch: drag to move, drag the corner handle to resize."));
    help->setWordWrap(true);
    layout->addWidget(help);
    auto* autoSketch = new QPushButton(tr("Sketch from image"));
    auto* importSketch = new QPushButton(tr("Import sketch…"));
    layout->addWidget(autoSketch);
    layout->addWidget(importSketch);
    layout->addWidget(new QLabel(tr("Textures")));
    textures_ = new QListWidget;
    textures_->setViewMode(QListView::IconMode);
    textures_->setIconSize(QSize(56, 56));
    textures_->setMovement(QListView::Static);
    textures_->setMaximumHeight(150);
    layout->addWidget(textures_);
    auto* importTex = new QPushButton(tr("Import texture…"));
    auto* place = new QPushButton(tr("Place patch"));
    remove_ = new QPushButton(tr("Remove selected patch"));
    auto* exportButton = new QPushButton(tr("Export patch layout…"));
    for (QPushButton* b : {importTex, place, remove_, exportButton})
        layout->addWidget(b);
    layout->addStretch(1);
    remove_->setEnabled(false);

    connect(autoSketch, &QPushButton::clicked, this, [this] {
        if (!doc_->source().isNull())
            doc_->undoStack()->push(new SetSketchCommand(doc_, live::sketch_from(toRgb8(doc_->source())), tr("Sketch from image")));
    });
    connect(importSketch, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import sketch"), QString(), fileFilterImages());
        QString error;
        if (!path.isEmpty() && !this->importSketch(path, &error))
            QMessageBox::warning(this, tr("Import failed"), error);
    });
    connect(importTex, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import texture"), QString(), fileFilterImages());
        QString error;
        if (!path.isEmpty() && !importTexture(path, &error))
            QMessageBox::warning(this, tr("Import failed"), error);
    });
    connect(place, &QPushButton::clicked, this, [this] {
        const int t = textures_->currentRow();
        if (t >= 0)
            placePatch(t);
        else
            Q_EMIT message(tr("Import or pick a texture first"));
    });
    connect(remove_, &QPushButton::clicked, this, [this] {
        const int i = tool_->selected();
        if (i < 0)
            return;
        QList<PatchPlacement> p = doc_->patches();
        p.removeAt(i);
        tool_->setSelected(-1);
        doc_->undoStack()->push(new SetPatchesCommand(doc_, p, tr("Remove patch")));
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export patch layout"), QStringLiteral("patches.json"), tr("JSON (*.json)"));
        QString error;
        if (!path.isEmpty() && !exportLayout(path, &error))
            QMessageBox::warning(this, tr("Export failed"), error);
    });
    connect(tool_, &TextureTool::selectionChanged, this, [this](int i) { remove_->setEnabled(i >= 0); });
    connect(doc_, &Document::sourceChanged, this, &TexturePanel::refreshTextures);
    connect(doc_, &Document::guideChanged, this, &TexturePanel::refreshTextures);
}

void TexturePanel::refreshTextures()
{
    if (textures_->count() == doc_->textures().size())
        return;
    const int keep = textures_->currentRow();
    textures_->clear();
    for (int i = 0; i < doc_->textures().size(); ++i)
        textures_->addItem(new QListWidgetItem(QIcon(QPixmap::fromImage(doc_->textures()[i].scaled(56, 56, Qt::KeepAspectRatio))),
                                               tr("Texture %1").arg(i + 1)));
    textures_->setCurrentRow(std::min(keep, static_cast<int>(textures_->count()) - 1));
}

bool TexturePanel::importTexture(const QString& path, QString* error)
{
    QImage image(path);
    if (image.isNull()) {
        *error = tr("%1: not an image this program can read").arg(path);
        return false;
    }
    const int t = doc_->addTexture(image);
    refreshTextures();
    textures_->setCurrentRow(t);
    placePatch(t);
    return true;
}

bool TexturePanel::importSketch(const QString& path, QString* error)
{
    try {
        live::Raster sketch = live::read_sketch(path.toStdString());
        const QSize src = doc_->source().size();
        if (!src.isEmpty() && (sketch.width != src.width() || sketch.height != src.height()))
            sketch = live::resize(sketch, src.width(), src.height());
        doc_->undoStack()->push(new SetSketchCommand(doc_, sketch, tr("Import sketch")));
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

void TexturePanel::placePatch(int texture)
{
    const QSize src = doc_->source().size();
    if (src.isEmpty() || texture < 0 || texture >= doc_->textures().size())
        return;
    const double side = std::min(src.width(), src.height()) / 4.0;
    QList<PatchPlacement> p = doc_->patches();
    p.append({texture, QRectF(src.width() / 2.0 - side / 2, src.height() / 2.0 - side / 2, side, side)});
    doc_->undoStack()->push(new SetPatchesCommand(doc_, p, tr("Place patch")));
    tool_->setSelected(static_cast<int>(p.size()) - 1);
}

bool TexturePanel::exportLayout(const QString& path, QString* error)
{
    // The layout as JSON, each texture as a PNG beside it (name.texture-N.png).
    const QFileInfo info(path);
    QJsonArray patches, textures;
    for (int i = 0; i < doc_->textures().size(); ++i) {
        const QString name = info.completeBaseName() + QStringLiteral(".texture-%1.png").arg(i + 1);
        QSaveFile f(info.dir().filePath(name));
        if (!f.open(QIODevice::WriteOnly) || !doc_->textures()[i].save(&f, "PNG") || !f.commit()) {
            *error = tr("Cannot write %1").arg(info.dir().filePath(name));
            return false;
        }
        textures.append(name);
    }
    for (const PatchPlacement& p : doc_->patches())
        patches.append(QJsonObject{{QStringLiteral("texture"), p.texture},
                                   {QStringLiteral("x"), p.rect.x()},
                                   {QStringLiteral("y"), p.rect.y()},
                                   {QStringLiteral("width"), p.rect.width()},
                                   {QStringLiteral("height"), p.rect.height()}});
    const QJsonObject root{{QStringLiteral("image_width"), doc_->source().width()},
                           {QStringLiteral("image_height"), doc_->source().height()},
                           {QStringLiteral("textures"), textures},
                           {QStringLiteral("patches"), patches}};
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(root).toJson()) < 0 || !f.commit()) {
        *error = tr("Cannot write %1").arg(path);
        return false;
    }
    Q_EMIT message(tr("Saved %1").arg(path));
    return true;
}

} // namespace bft::studio
