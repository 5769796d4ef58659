<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW">
<context>
    <name>QObject</name>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</source>
        <translation>影像 (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</translation>
    </message>
</context>
<context>
    <name>bft::studio::Commands</name>
    <message>
        <source>Move %1</source>
        <translation>移動 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::DepthPanel</name>
    <message>
        <source>Paint depth readings into the low-resolution grid, or erase them; Ctrl+click picks the value under the cursor. Empty cells take the nearest reading.</source>
        <translation>在低解析度網格上繪製或清除深度讀數；Ctrl+按一下可取用游標下的數值。空白格會採用最近的讀數。</translation>
    </message>
    <message>
        <source>Import depth map…</source>
        <translation>匯入深度圖…</translation>
    </message>
    <message>
        <source>Export low-res depth…</source>
        <translation>匯出低解析度深度…</translation>
    </message>
    <message>
        <source>Clear all readings</source>
        <translation>清除所有讀數</translation>
    </message>
    <message>
        <source>×%1</source>
        <translation>×%1</translation>
    </message>
    <message>
        <source>How much lower the input&apos;s resolution is than the result&apos;s</source>
        <translation>輸入的解析度比結果低多少倍</translation>
    </message>
    <message>
        <source>Factor</source>
        <translation>倍率</translation>
    </message>
    <message>
        <source>Paint</source>
        <translation>繪製</translation>
    </message>
    <message>
        <source>Erase</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Brush</source>
        <translation>筆刷</translation>
    </message>
    <message>
        <source> m</source>
        <translation> 公尺</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>數值</translation>
    </message>
    <message>
        <source> cells</source>
        <translation> 格</translation>
    </message>
    <message>
        <source>Radius</source>
        <translation>半徑</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>疊加</translation>
    </message>
    <message>
        <source>m</source>
        <translation>公尺</translation>
    </message>
    <message>
        <source>Depth factor ×%1</source>
        <translation>深度倍率 ×%1</translation>
    </message>
    <message>
        <source>Clear depth</source>
        <translation>清除深度</translation>
    </message>
    <message>
        <source>Import depth map</source>
        <translation>匯入深度圖</translation>
    </message>
    <message>
        <source>Depth maps (*.png *.npy)</source>
        <translation>深度圖 (*.png *.npy)</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>匯入失敗</translation>
    </message>
    <message>
        <source>Export low-resolution depth</source>
        <translation>匯出低解析度深度</translation>
    </message>
    <message>
        <source>16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)</source>
        <translation>16 位元 PNG，公釐 (*.png);;NumPy，公尺 (*.npy)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>匯出失敗</translation>
    </message>
    <message>
        <source>%1 is %2x%3, the image %4x%5: stretched to fit</source>
        <translation>%1 為 %2x%3，影像為 %4x%5：已延展以符合大小</translation>
    </message>
    <message>
        <source>Import depth</source>
        <translation>匯入深度</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::DepthTool</name>
    <message>
        <source>Erase depth</source>
        <translation>清除深度</translation>
    </message>
    <message>
        <source>Paint depth</source>
        <translation>繪製深度</translation>
    </message>
</context>
<context>
    <name>bft::studio::FilmViewer</name>
    <message>
        <source>guide → input</source>
        <translation>引導 → 輸入</translation>
    </message>
    <message>
        <source>input → guide</source>
        <translation>輸入 → 引導</translation>
    </message>
    <message>
        <source>Which stream predicts the maps and which one they modulate</source>
        <translation>由哪一路預測對應圖，又調變哪一路</translation>
    </message>
    <message>
        <source>γ (scale)</source>
        <translation>γ（縮放）</translation>
    </message>
    <message>
        <source>β (shift)</source>
        <translation>β（位移）</translation>
    </message>
    <message>
        <source>One channel</source>
        <translation>單一通道</translation>
    </message>
    <message>
        <source>Mean over channels</source>
        <translation>各通道平均值</translation>
    </message>
    <message>
        <source>Max |value| over channels</source>
        <translation>各通道最大 |值|</translation>
    </message>
    <message>
        <source>First 3 principal components (RGB)</source>
        <translation>前 3 個主成分 (RGB)</translation>
    </message>
    <message>
        <source>channel </source>
        <translation>通道 </translation>
    </message>
    <message>
        <source>Overlay on image</source>
        <translation>疊加於影像上</translation>
    </message>
    <message>
        <source>Overlay opacity</source>
        <translation>疊加不透明度</translation>
    </message>
    <message>
        <source>No γ/β maps yet: they arrive with the next full-size result.</source>
        <translation>尚無 γ/β 對應圖：將隨下一個完整尺寸結果產生。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>匯出…</translation>
    </message>
    <message>
        <source>Save what is shown as a PNG, or the values as .npy</source>
        <translation>將目前顯示的內容儲存為 PNG，或將數值儲存為 .npy</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>層級</translation>
    </message>
    <message>
        <source>Direction</source>
        <translation>方向</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>對應圖</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>顯示</translation>
    </message>
    <message>
        <source>Level %1</source>
        <translation>層級 %1</translation>
    </message>
    <message>
        <source>not predicted at this level</source>
        <translation>此層級未預測</translation>
    </message>
    <message>
        <source>(%1, %2): %3, %4, %5</source>
        <translation>(%1, %2)：%3, %4, %5</translation>
    </message>
    <message>
        <source>(%1, %2): %3</source>
        <translation>(%1, %2)：%3</translation>
    </message>
    <message>
        <source>Nothing to export.</source>
        <translation>沒有可匯出的內容。</translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation>無法寫入 %1。</translation>
    </message>
    <message>
        <source>Export γ/β map</source>
        <translation>匯出 γ/β 對應圖</translation>
    </message>
    <message>
        <source>PNG image (*.png);;NumPy array (*.npy)</source>
        <translation>PNG 影像 (*.png);;NumPy 陣列 (*.npy)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>匯出失敗</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::FinetunePanel</name>
    <message>
        <source>a dataset folder (dataset.json, train/, val/)</source>
        <translation>資料集資料夾（dataset.json、train/、val/）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>瀏覽…</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>匯入…</translation>
    </message>
    <message>
        <source>Import DeepFashion/Market pose pairs, NYU Depth v2, TextureGAN folders, pix2pix pairs or RGB-D frames</source>
        <translation>匯入 DeepFashion/Market 姿勢配對、NYU Depth v2、TextureGAN 資料夾、pix2pix 配對或 RGB-D 影格</translation>
    </message>
    <message>
        <source>Make synthetic…</source>
        <translation>建立合成資料集…</translation>
    </message>
    <message>
        <source>Write a small synthetic dataset of the editor&apos;s task to try fine-tuning on</source>
        <translation>依編輯器目前的任務寫入一個小型合成資料集，用來試做微調</translation>
    </message>
    <message>
        <source>The dataset check appears here.</source>
        <translation>資料集檢查結果會顯示在這裡。</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>資料集</translation>
    </message>
    <message>
        <source>The editor&apos;s model</source>
        <translation>編輯器的模型</translation>
    </message>
    <message>
        <source>A checkpoint…</source>
        <translation>選擇檢查點…</translation>
    </message>
    <message>
        <source>From scratch (bFT)</source>
        <translation>從頭訓練 (bFT)</translation>
    </message>
    <message>
        <source>From scratch (uFT, one-way baseline)</source>
        <translation>從頭訓練（uFT，單向基準）</translation>
    </message>
    <message>
        <source>GAN loss (LSGAN, PatchGAN)</source>
        <translation>GAN 損失 (LSGAN, PatchGAN)</translation>
    </message>
    <message>
        <source>Random horizontal flips</source>
        <translation>隨機水平翻轉</translation>
    </message>
    <message>
        <source>Model and settings</source>
        <translation>模型與設定</translation>
    </message>
    <message>
        <source>Start from</source>
        <translation>起始模型</translation>
    </message>
    <message>
        <source>Width (ngf)</source>
        <translation>寬度 (ngf)</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步數</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>批次大小</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>學習率</translation>
    </message>
    <message>
        <source>L1 weight</source>
        <translation>L1 權重</translation>
    </message>
    <message>
        <source>Validate every</source>
        <translation>驗證間隔</translation>
    </message>
    <message>
        <source>Samples every</source>
        <translation>樣本間隔</translation>
    </message>
    <message>
        <source>Checkpoint every</source>
        <translation>檢查點間隔</translation>
    </message>
    <message>
        <source>run folder (made when training starts)</source>
        <translation>訓練執行資料夾（開始訓練時建立）</translation>
    </message>
    <message>
        <source>Open run…</source>
        <translation>開啟訓練執行…</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>開始</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暫停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>繼續</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>閒置</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>訓練執行</translation>
    </message>
    <message>
        <source>Losses</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>G L1 (weighted)</source>
        <translation>G L1（加權）</translation>
    </message>
    <message>
        <source>G GAN</source>
        <translation>G GAN</translation>
    </message>
    <message>
        <source>D real</source>
        <translation>D 真實</translation>
    </message>
    <message>
        <source>D fake</source>
        <translation>D 偽造</translation>
    </message>
    <message>
        <source>Validation L1</source>
        <translation>驗證 L1</translation>
    </message>
    <message>
        <source>val L1</source>
        <translation>驗證 L1</translation>
    </message>
    <message>
        <source>Sample sheets (input | guide | output | target) appear here during training.</source>
        <translation>訓練期間，樣本圖（輸入 | 引導 | 輸出 | 目標）會顯示在這裡。</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步數</translation>
    </message>
    <message>
        <source>Val L1</source>
        <translation>驗證 L1</translation>
    </message>
    <message>
        <source>File</source>
        <translation>檔案</translation>
    </message>
    <message>
        <source>Use in editor</source>
        <translation>在編輯器中使用</translation>
    </message>
    <message>
        <source>Load the selected checkpoint into the editor; training goes on</source>
        <translation>將選取的檢查點載入編輯器；訓練會繼續進行</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>驗證</translation>
    </message>
    <message>
        <source>Samples</source>
        <translation>樣本</translation>
    </message>
    <message>
        <source>Checkpoints</source>
        <translation>檢查點</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>Dataset folder</source>
        <translation>資料集資料夾</translation>
    </message>
    <message>
        <source>Where to write the synthetic dataset</source>
        <translation>合成資料集的寫入位置</translation>
    </message>
    <message>
        <source>Writing a synthetic dataset to %1…</source>
        <translation>正在將合成資料集寫入 %1…</translation>
    </message>
    <message>
        <source>Synthetic dataset</source>
        <translation>合成資料集</translation>
    </message>
    <message>
        <source>Base checkpoint</source>
        <translation>基礎檢查點</translation>
    </message>
    <message>
        <source>PyTorch checkpoints (*.pth *.pt)</source>
        <translation>PyTorch 檢查點 (*.pth *.pt)</translation>
    </message>
    <message>
        <source>Open a run folder</source>
        <translation>開啟訓練執行資料夾</translation>
    </message>
    <message>
        <source>Training from step %1 of %2…</source>
        <translation>正在從第 %1 步開始訓練（共 %2 步）…</translation>
    </message>
    <message>
        <source>Finished at step %1.</source>
        <translation>已於第 %1 步完成。</translation>
    </message>
    <message>
        <source>Paused at step %1 (checkpointed).</source>
        <translation>已於第 %1 步暫停（已儲存檢查點）。</translation>
    </message>
    <message>
        <source>Stopped at step %1 (checkpointed; Open run… resumes it).</source>
        <translation>已於第 %1 步停止（已儲存檢查點；可用「開啟訓練執行…」繼續）。</translation>
    </message>
    <message>
        <source>Stopped by an error: %1</source>
        <translation>因錯誤而停止：%1</translation>
    </message>
    <message>
        <source>Training stopped</source>
        <translation>訓練已停止</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>正在檢查 %1…</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>%1 task; %2 samples</source>
        <translation>%1 任務；樣本數 %2</translation>
    </message>
    <message>
        <source>No problems found.</source>
        <translation>未發現問題。</translation>
    </message>
    <message>
        <source>No samples.</source>
        <translation>沒有樣本。</translation>
    </message>
    <message numerus="yes">
        <source>%n problem(s): fix them before training.</source>
        <translation>
            <numerusform>%n 個問題：請在訓練前修正。</numerusform>
        </translation>
    </message>
    <message>
        <source>A run is already going: pause or stop it first.</source>
        <translation>已有訓練正在執行：請先暫停或停止。</translation>
    </message>
    <message>
        <source>Pick a dataset without problems first.</source>
        <translation>請先選擇沒有問題的資料集。</translation>
    </message>
    <message>
        <source>No base model: open one in the editor, pick a checkpoint, or start from scratch.</source>
        <translation>沒有基礎模型：請在編輯器中開啟模型、選擇檢查點，或從頭訓練。</translation>
    </message>
    <message>
        <source>A run is still finishing; try again in a moment.</source>
        <translation>仍有訓練正在收尾；請稍後再試。</translation>
    </message>
    <message>
        <source>Pausing: saving a checkpoint…</source>
        <translation>正在暫停：儲存檢查點中…</translation>
    </message>
    <message>
        <source>Stopping: saving a checkpoint…</source>
        <translation>正在停止：儲存檢查點中…</translation>
    </message>
    <message>
        <source>Open run</source>
        <translation>開啟訓練執行</translation>
    </message>
    <message>
        <source>A finished run: %1, %2 steps.</source>
        <translation>已完成的訓練執行：%1，共 %2 步。</translation>
    </message>
    <message>
        <source>A run stopped at step %1 of %2: Resume continues it.</source>
        <translation>訓練執行停在第 %1 步（共 %2 步）：按「繼續」可接著訓練。</translation>
    </message>
    <message>
        <source>Step %1 of %2 · %3 it/s · ETA %4</source>
        <translation>第 %1 / %2 步 · %3 it/s · 預計剩餘 %4</translation>
    </message>
    <message>
        <source>Step %1: input | guide | output | target</source>
        <translation>第 %1 步：輸入 | 引導 | 輸出 | 目標</translation>
    </message>
    <message>
        <source>best (by val L1)</source>
        <translation>最佳（依驗證 L1）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>GPU %1</source>
        <translation>GPU %1</translation>
    </message>
    <message>
        <source>Data-parallel training: this many processes share each batch (bft train --nproc). On GPUs, one process per GPU: GPUs 0 to N-1.</source>
        <translation>資料平行訓練：由這麼多個行程分攤每個批次（bft train --nproc）。在 GPU 上每張 GPU 一個行程：使用 GPU 0 到 N-1。</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>裝置</translation>
    </message>
    <message>
        <source>Processes</source>
        <translation>行程數</translation>
    </message>
    <message>
        <source> (one per GPU)</source>
        <translation>（每張 GPU 一個）</translation>
    </message>
</context>
<context>
    <name>bft::studio::ImportDialog</name>
    <message>
        <source>Import a dataset</source>
        <translation>匯入資料集</translation>
    </message>
    <message>
        <source>DeepFashion / Market-1501 pose pairs (Pose-Transfer layout)</source>
        <translation>DeepFashion / Market-1501 姿勢配對（Pose-Transfer 目錄結構）</translation>
    </message>
    <message>
        <source>NYU Depth v2 (nyu_depth_v2_labeled.mat)</source>
        <translation>NYU Depth v2 (nyu_depth_v2_labeled.mat)</translation>
    </message>
    <message>
        <source>TextureGAN folders ({train,val}_{img,skg,seg})</source>
        <translation>TextureGAN 資料夾 ({train,val}_{img,skg,seg})</translation>
    </message>
    <message>
        <source>pix2pix aligned A|B pairs</source>
        <translation>pix2pix 對齊的 A|B 配對</translation>
    </message>
    <message>
        <source>RGB-D frames (colour + 16-bit depth PNGs)</source>
        <translation>RGB-D 影格（彩色 + 16 位元深度 PNG）</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>The low-resolution input is the depth reduced by this factor (4, 8 or 16)</source>
        <translation>低解析度輸入是將深度依此倍率縮小而得（4、8 或 16）</translation>
    </message>
    <message>
        <source>Depth units per metre in the PNGs: 1000 for millimetres, 5000 for TUM RGB-D</source>
        <translation>PNG 中每公尺的深度單位數：公釐為 1000，TUM RGB-D 為 5000</translation>
    </message>
    <message>
        <source>Texture transfer</source>
        <translation>紋理轉換</translation>
    </message>
    <message>
        <source>Pose transfer</source>
        <translation>姿勢轉換</translation>
    </message>
    <message>
        <source>folder of guides by name (needed for pose)</source>
        <translation>依檔名對應的引導資料夾（姿勢任務必填）</translation>
    </message>
    <message>
        <source>splits.mat for the official 795/654 split (else first 1000 / last 449)</source>
        <translation>官方 795/654 分割所用的 splits.mat（否則取前 1000 / 後 449 筆）</translation>
    </message>
    <message>
        <source>folder of the authors&apos; input_&lt;F&gt;x_{train,test}.mat (else made here)</source>
        <translation>原作者 input_&lt;F&gt;x_{train,test}.mat 所在的資料夾（否則在此產生）</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>匯入</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Use this dataset</source>
        <translation>使用此資料集</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>From</source>
        <translation>來源</translation>
    </message>
    <message>
        <source>Into</source>
        <translation>目的地</translation>
    </message>
    <message>
        <source>Depth factor</source>
        <translation>深度倍率</translation>
    </message>
    <message>
        <source>Depth scale</source>
        <translation>深度比例</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任務</translation>
    </message>
    <message>
        <source>Guides</source>
        <translation>引導</translation>
    </message>
    <message>
        <source>NYU split</source>
        <translation>NYU 分割</translation>
    </message>
    <message>
        <source>NYU inputs</source>
        <translation>NYU 輸入</translation>
    </message>
    <message>
        <source>NYU Depth v2 file</source>
        <translation>NYU Depth v2 檔案</translation>
    </message>
    <message>
        <source>MATLAB files (*.mat)</source>
        <translation>MATLAB 檔案 (*.mat)</translation>
    </message>
    <message>
        <source>Source folder</source>
        <translation>來源資料夾</translation>
    </message>
    <message>
        <source>Where the dataset goes</source>
        <translation>資料集的存放位置</translation>
    </message>
    <message>
        <source>Choose where to import from and into.</source>
        <translation>請選擇匯入的來源與目的地。</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>正在匯入…</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>繼續</translation>
    </message>
    <message>
        <source>
Stopped: Resume goes on where it stopped.</source>
        <translation>
已停止：按「繼續」可從停止處接續。</translation>
    </message>
</context>
<context>
    <name>bft::studio::LiveSession</name>
    <message>
        <source>loading %1…</source>
        <translation>正在載入 %1…</translation>
    </message>
    <message>
        <source>no model</source>
        <translation>沒有模型</translation>
    </message>
</context>
<context>
    <name>bft::studio::LossChart</name>
    <message>
        <source>step</source>
        <translation>步數</translation>
    </message>
    <message>
        <source> (raw)</source>
        <translation> (原始)</translation>
    </message>
</context>
<context>
    <name>bft::studio::MainWindow</name>
    <message>
        <source>Pose transfer</source>
        <translation>姿勢轉換</translation>
    </message>
    <message>
        <source>Texture transfer</source>
        <translation>紋理轉換</translation>
    </message>
    <message>
        <source>Depth upsampling</source>
        <translation>深度升取樣</translation>
    </message>
    <message>
        <source>Guide</source>
        <translation>引導</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>結果</translation>
    </message>
    <message>
        <source>Wipe source | result</source>
        <translation>滑動比較 來源 | 結果</translation>
    </message>
    <message>
        <source>Overlay on source</source>
        <translation>疊加於來源上</translation>
    </message>
    <message>
        <source>Compare:</source>
        <translation>比較：</translation>
    </message>
    <message>
        <source>The model is running</source>
        <translation>模型執行中</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>模型：%1</translation>
    </message>
    <message>
        <source>Device: %1</source>
        <translation>裝置：%1</translation>
    </message>
    <message>
        <source>Drags render in bfloat16: about twice as fast, slightly less exact</source>
        <translation>拖曳時以 bfloat16 算繪：速度約快一倍，精確度略低</translation>
    </message>
    <message>
        <source>This device has no fast bfloat16: drags render in fp32</source>
        <translation>此裝置不支援快速 bfloat16：拖曳時以 fp32 算繪</translation>
    </message>
    <message>
        <source>Recover session</source>
        <translation>復原工作階段</translation>
    </message>
    <message>
        <source>bFT Studio did not close cleanly last time. Recover the unsaved session?</source>
        <translation>bFT Studio 上次未正常關閉。要復原未儲存的工作階段嗎？</translation>
    </message>
    <message>
        <source>Guide editor</source>
        <translation>引導編輯器</translation>
    </message>
    <message>
        <source>γ/β maps</source>
        <translation>γ/β 對應圖</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>檔案(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open Image…</source>
        <translation>開啟影像(&amp;O)…</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>開啟影像</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</source>
        <translation>影像 (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</translation>
    </message>
    <message>
        <source>Open &amp;Sample</source>
        <translation>開啟範例(&amp;S)</translation>
    </message>
    <message>
        <source>(none installed)</source>
        <translation>（未安裝）</translation>
    </message>
    <message>
        <source>Sample %1</source>
        <translation>範例 %1</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>開啟最近的檔案(&amp;R)</translation>
    </message>
    <message>
        <source>Open &amp;Project…</source>
        <translation>開啟專案(&amp;P)…</translation>
    </message>
    <message>
        <source>Open project</source>
        <translation>開啟專案</translation>
    </message>
    <message>
        <source>bFT Studio projects (*.bftproj)</source>
        <translation>bFT Studio 專案 (*.bftproj)</translation>
    </message>
    <message>
        <source>&amp;Save Project</source>
        <translation>儲存專案(&amp;S)</translation>
    </message>
    <message>
        <source>Save project</source>
        <translation>儲存專案</translation>
    </message>
    <message>
        <source>Save Project &amp;As…</source>
        <translation>專案另存新檔(&amp;A)…</translation>
    </message>
    <message>
        <source>Save &amp;Result…</source>
        <translation>儲存結果(&amp;R)…</translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <source>Save result</source>
        <translation>儲存結果</translation>
    </message>
    <message>
        <source>16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)</source>
        <translation>16 位元 PNG，公釐 (*.png);;NumPy，公尺 (*.npy)</translation>
    </message>
    <message>
        <source>PNG image (*.png);;JPEG image (*.jpg)</source>
        <translation>PNG 影像 (*.png);;JPEG 影像 (*.jpg)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>結束(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>編輯(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>復原(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>Open &amp;Checkpoint…</source>
        <translation>開啟檢查點(&amp;C)…</translation>
    </message>
    <message>
        <source>Ctrl+M</source>
        <translation>Ctrl+M</translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation>開啟檢查點</translation>
    </message>
    <message>
        <source>PyTorch checkpoints (*.pth *.pt)</source>
        <translation>PyTorch 檢查點 (*.pth *.pt)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>檢視(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation>符合視窗大小(&amp;F)</translation>
    </message>
    <message>
        <source>Ctrl+0</source>
        <translation>Ctrl+0</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>語言(&amp;L)</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>系統預設</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>說明(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About bFT Studio</source>
        <translation>關於 bFT Studio(&amp;A)</translation>
    </message>
    <message>
        <source>About bFT Studio</source>
        <translation>關於 bFT Studio</translation>
    </message>
    <message>
        <source>&lt;b&gt;bFT Studio&lt;/b&gt; %1&lt;br&gt;Guided image-to-image translation with bi-directional feature transformation (AlBahar &amp;amp; Huang, ICCV 2019).&lt;br&gt;Loads the authors&apos; checkpoints unchanged.</source>
        <translation>&lt;b&gt;bFT Studio&lt;/b&gt; %1&lt;br&gt;以雙向特徵轉換進行引導式影像到影像轉譯（AlBahar &amp;amp; Huang，ICCV 2019）。&lt;br&gt;可直接載入原作者的檢查點，無需修改。</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source> Task </source>
        <translation> 任務 </translation>
    </message>
    <message>
        <source> Model </source>
        <translation> 模型 </translation>
    </message>
    <message>
        <source> Device </source>
        <translation> 裝置 </translation>
    </message>
    <message>
        <source>all cores</source>
        <translation>所有核心</translation>
    </message>
    <message>
        <source>CPU threads for the network (0: all %1 cores)</source>
        <translation>網路使用的 CPU 執行緒數（0：全部 %1 個核心）</translation>
    </message>
    <message>
        <source> Threads </source>
        <translation> 執行緒 </translation>
    </message>
    <message>
        <source>%1 px</source>
        <translation>%1 px</translation>
    </message>
    <message>
        <source>Long side of the result when the guide rests</source>
        <translation>引導靜止時結果的長邊尺寸</translation>
    </message>
    <message>
        <source>Long side of the preview while you drag</source>
        <translation>拖曳時預覽的長邊尺寸</translation>
    </message>
    <message>
        <source> Result </source>
        <translation> 結果 </translation>
    </message>
    <message>
        <source> Preview </source>
        <translation> 預覽 </translation>
    </message>
    <message>
        <source>Fast preview (bf16)</source>
        <translation>快速預覽 (bf16)</translation>
    </message>
    <message>
        <source>No model: open a checkpoint (Model menu)</source>
        <translation>沒有模型：請開啟檢查點（模型選單）</translation>
    </message>
    <message>
        <source>Demo model (%1)</source>
        <translation>示範模型（%1）</translation>
    </message>
    <message>
        <source>Open checkpoint…</source>
        <translation>開啟檢查點…</translation>
    </message>
    <message>
        <source>%1: not an image this program can read (missing, damaged or of an unknown format)</source>
        <translation>%1：不是本程式可讀取的影像（遺失、損毀或格式不明）</translation>
    </message>
    <message>
        <source>%1: %2x%3 pixels is too large (16384 a side at most)</source>
        <translation>%1：%2x%3 像素過大（每邊最多 16384）</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
    <message>
        <source>Sample %1 of the %2 task is incomplete in %3</source>
        <translation>%3 中%2任務的範例 %1 不完整</translation>
    </message>
    <message>
        <source>sample %1 is damaged</source>
        <translation>範例 %1 已損毀</translation>
    </message>
    <message>
        <source>There is no result to save yet.</source>
        <translation>尚無可儲存的結果。</translation>
    </message>
    <message>
        <source>%1: cannot write the image</source>
        <translation>%1：無法寫入影像</translation>
    </message>
    <message>
        <source>bFT Studio</source>
        <translation>bFT Studio</translation>
    </message>
    <message>
        <source>Preview %1 ms%2</source>
        <translation>預覽 %1 ms%2</translation>
    </message>
    <message>
        <source> (bf16)</source>
        <translation> (bf16)</translation>
    </message>
    <message>
        <source>Result %1 ms</source>
        <translation>結果 %1 ms</translation>
    </message>
    <message>
        <source>untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source>%1[*] — %2 — bFT Studio</source>
        <translation>%1[*] — %2 — bFT Studio</translation>
    </message>
    <message>
        <source>Autosave failed: %1</source>
        <translation>自動儲存失敗：%1</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未儲存的變更</translation>
    </message>
    <message>
        <source>The guide has unsaved changes. Discard them?</source>
        <translation>引導有未儲存的變更。要捨棄嗎？</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>語言</translation>
    </message>
    <message>
        <source>The language changes when bFT Studio starts again.</source>
        <translation>語言將在 bFT Studio 重新啟動後變更。</translation>
    </message>
    <message>
        <source>Save the project before closing?</source>
        <translation>關閉前要儲存專案嗎？</translation>
    </message>
    <message>
        <source>%1: no such file, or it cannot be read</source>
        <translation>%1：檔案不存在，或無法讀取</translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation>微調</translation>
    </message>
    <message>
        <source>Use &amp;Less Memory</source>
        <translation>節省記憶體(&amp;L)</translation>
    </message>
    <message>
        <source>Runs every convolution directly and lets go of the transformed weights of the fast 3×3 layers: about half a gigabyte less for a full-size ResNet generator, each result taking about 1.5× as long</source>
        <translation>所有卷積直接計算，並釋放快速 3×3 層的轉換權重：完整大小的 ResNet 生成器約少用半 GB 記憶體，每個結果約需 1.5 倍時間</translation>
    </message>
</context>
<context>
    <name>bft::studio::PosePanel</name>
    <message>
        <source>Drag a keypoint to move it. Double-click a keypoint to hide or restore it. Space + drag or the middle button pans; the wheel zooms.</source>
        <translation>拖曳關鍵點即可移動。按兩下關鍵點可隱藏或還原。按住空白鍵拖曳或使用滑鼠中鍵可平移；滾輪可縮放。</translation>
    </message>
    <message>
        <source>Mirror left/right</source>
        <translation>左右鏡像</translation>
    </message>
    <message>
        <source>Reset to standing pose</source>
        <translation>重設為站立姿勢</translation>
    </message>
    <message>
        <source>Restore all hidden</source>
        <translation>還原所有隱藏項目</translation>
    </message>
    <message>
        <source>Import OpenPose JSON…</source>
        <translation>匯入 OpenPose JSON…</translation>
    </message>
    <message>
        <source>Export OpenPose JSON…</source>
        <translation>匯出 OpenPose JSON…</translation>
    </message>
    <message>
        <source>Restore %1</source>
        <translation>還原 %1</translation>
    </message>
    <message>
        <source>Hide %1</source>
        <translation>隱藏 %1</translation>
    </message>
    <message>
        <source>Mirror pose</source>
        <translation>鏡像姿勢</translation>
    </message>
    <message>
        <source>Reset pose</source>
        <translation>重設姿勢</translation>
    </message>
    <message>
        <source>Restore all keypoints</source>
        <translation>還原所有關鍵點</translation>
    </message>
    <message>
        <source>Import OpenPose JSON</source>
        <translation>匯入 OpenPose JSON</translation>
    </message>
    <message>
        <source>OpenPose JSON (*.json)</source>
        <translation>OpenPose JSON (*.json)</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>匯入失敗</translation>
    </message>
    <message>
        <source>Export OpenPose JSON</source>
        <translation>匯出 OpenPose JSON</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>匯出失敗</translation>
    </message>
    <message>
        <source>No keypoint selected</source>
        <translation>未選取關鍵點</translation>
    </message>
    <message>
        <source>Hide keypoint</source>
        <translation>隱藏關鍵點</translation>
    </message>
    <message>
        <source>Selected: %1</source>
        <translation>已選取：%1</translation>
    </message>
    <message>
        <source>Restore keypoint</source>
        <translation>還原關鍵點</translation>
    </message>
    <message>
        <source>%1: no person in the file</source>
        <translation>%1：檔案中沒有人物</translation>
    </message>
    <message>
        <source>Import pose</source>
        <translation>匯入姿勢</translation>
    </message>
    <message>
        <source>%1 has %2 people; the first was imported</source>
        <translation>%1 中有 %2 個人物；已匯入第一個</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::PoseTool</name>
    <message>
        <source>Restore %1</source>
        <translation>還原 %1</translation>
    </message>
    <message>
        <source>Hide %1</source>
        <translation>隱藏 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::TexturePanel</name>
    <message>
        <source>Place texture patches on the sketch: drag to move, drag the corner handle to resize.</source>
        <translation>在草圖上放置紋理貼片：拖曳可移動，拖曳角落控點可調整大小。</translation>
    </message>
    <message>
        <source>Sketch from image</source>
        <translation>從影像產生草圖</translation>
    </message>
    <message>
        <source>Import sketch…</source>
        <translation>匯入草圖…</translation>
    </message>
    <message>
        <source>Textures</source>
        <translation>紋理</translation>
    </message>
    <message>
        <source>Import texture…</source>
        <translation>匯入紋理…</translation>
    </message>
    <message>
        <source>Place patch</source>
        <translation>放置貼片</translation>
    </message>
    <message>
        <source>Remove selected patch</source>
        <translation>移除選取的貼片</translation>
    </message>
    <message>
        <source>Export patch layout…</source>
        <translation>匯出貼片配置…</translation>
    </message>
    <message>
        <source>Import sketch</source>
        <translation>匯入草圖</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>匯入失敗</translation>
    </message>
    <message>
        <source>Import texture</source>
        <translation>匯入紋理</translation>
    </message>
    <message>
        <source>Import or pick a texture first</source>
        <translation>請先匯入或選擇紋理</translation>
    </message>
    <message>
        <source>Remove patch</source>
        <translation>移除貼片</translation>
    </message>
    <message>
        <source>Export patch layout</source>
        <translation>匯出貼片配置</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>匯出失敗</translation>
    </message>
    <message>
        <source>Texture %1</source>
        <translation>紋理 %1</translation>
    </message>
    <message>
        <source>%1: not an image this program can read</source>
        <translation>%1：不是本程式可讀取的影像</translation>
    </message>
    <message>
        <source>Cannot write %1</source>
        <translation>無法寫入 %1</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
</context>
<context>
    <name>bft::studio::TextureTool</name>
    <message>
        <source>Resize patch</source>
        <translation>調整貼片大小</translation>
    </message>
    <message>
        <source>Move patch</source>
        <translation>移動貼片</translation>
    </message>
</context>
</TS>
