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
