<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW">
<context>
    <name>QObject</name>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::Commands</name>
    <message>
        <source>Move %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::DepthPanel</name>
    <message>
        <source>Paint depth readings into the low-resolution grid, or erase them; Ctrl+click picks the value under the cursor. Empty cells take the nearest reading.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import depth map…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export low-res depth…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear all readings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>×%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How much lower the input&apos;s resolution is than the result&apos;s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Factor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Erase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Brush</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> cells</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Radius</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Depth factor ×%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import depth map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Depth maps (*.png *.npy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export low-resolution depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is %2x%3, the image %4x%5: stretched to fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::DepthTool</name>
    <message>
        <source>Erase depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paint depth</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::FilmViewer</name>
    <message>
        <source>guide → input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>input → guide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Which stream predicts the maps and which one they modulate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>γ (scale)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>β (shift)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>One channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean over channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max |value| over channels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First 3 principal components (RGB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>channel </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay on image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay opacity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No γ/β maps yet: they arrive with the next full-size result.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save what is shown as a PNG, or the values as .npy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Level</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Direction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Level %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not predicted at this level</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(components)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(%1, %2): %3, %4, %5</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(%1, %2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing to export.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export γ/β map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG image (*.png);;NumPy array (*.npy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::LiveSession</name>
    <message>
        <source>loading %1…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::MainWindow</name>
    <message>
        <source>Pose transfer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Texture transfer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Depth upsampling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wipe source | result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay on source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compare:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model is running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drags render in bfloat16: about twice as fast, slightly less exact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This device has no fast bfloat16: drags render in fp32</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recover session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bFT Studio did not close cleanly last time. Recover the unsaved session?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guide editor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>γ/β maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open Image…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(none installed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sample %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Project…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bFT Studio projects (*.bftproj)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Project &amp;As…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save &amp;Result…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>16-bit PNG, millimetres (*.png);;NumPy, metres (*.npy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG image (*.png);;JPEG image (*.jpg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Checkpoint…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+M</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PyTorch checkpoints (*.pth *.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+0</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About bFT Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About bFT Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;bFT Studio&lt;/b&gt; %1&lt;br&gt;Guided image-to-image translation with bi-directional feature transformation (AlBahar &amp;amp; Huang, ICCV 2019).&lt;br&gt;Loads the authors&apos; checkpoints unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Task </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Model </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Device </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>all cores</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU threads for the network (0: all %1 cores)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Threads </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 px</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Long side of the result when the guide rests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Long side of the preview while you drag</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Result </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> Preview </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fast preview (bf16)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model: open a checkpoint (Model menu)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Demo model (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open checkpoint…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: not an image this program can read (missing, damaged or of an unknown format)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2x%3 pixels is too large (16384 a side at most)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: a model with %2 input, %3 guide and %4 output channels fits none of the tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is a %2 model (%3 input and %4 guide channels); the %5 task needs another. Switch the task first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sample %1 of the %2 task is incomplete in %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>sample %1 is damaged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no result to save yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: cannot write the image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bFT Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preview %1 ms%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (bf16)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Result %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>untitled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1[*] — %2 — bFT Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Autosave failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The guide has unsaved changes. Discard them?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The language changes when bFT Studio starts again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the project before closing?</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::PosePanel</name>
    <message>
        <source>Drag a keypoint to move it. Double-click a keypoint to hide or restore it. Space + drag or the middle button pans; the wheel zooms.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mirror left/right</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reset to standing pose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restore all hidden</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import OpenPose JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export OpenPose JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restore %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mirror pose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reset pose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restore all keypoints</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import OpenPose JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OpenPose JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export OpenPose JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No keypoint selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide keypoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Selected: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Restore keypoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: no person in the file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import pose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 has %2 people; the first was imported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::PoseTool</name>
    <message>
        <source>Restore %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::TexturePanel</name>
    <message>
        <source>Place texture patches on the sketch: drag to move, drag the corner handle to resize.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sketch from image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import sketch…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Textures</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import texture…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Place patch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove selected patch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export patch layout…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import sketch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import texture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import or pick a texture first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove patch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export patch layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Texture %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: not an image this program can read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>bft::studio::TextureTool</name>
    <message>
        <source>Resize patch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Move patch</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
