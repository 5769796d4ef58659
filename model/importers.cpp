#include "importers.h"

#include "atomic_file.h"
#include "depth.h"
#include "errors.h"
#include "image_io.h"
#include "opencv_io.h"
#include "pose.h"

#include <ATen/ATen.h>
#include <hdf5.h>
#include <matio.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace bft::importers {

namespace fs = std::filesystem;

std::string Report::text() const
{
    std::ostringstream o;
    for (const auto& [split, n] : counts)
        o << split << ": " << n << " samples\n";
    o << written << " written, " << kept << " already there";
    if (!skipped.empty())
        o << ", " << skipped.size() << " skipped:";
    o << "\n";
    for (const DatasetProblem& p : skipped)
        o << "  " << p.file << ": " << p.message << "\n";
    for (const DatasetProblem& p : notes)
        o << "note: " << p.file << ": " << p.message << "\n";
    return o.str();
}

namespace {

std::string trim(const std::string& s)
{
    const auto a = s.find_first_not_of(" \t\r\n\"");
    const auto b = s.find_last_not_of(" \t\r\n\"");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// "[12, 34, -1, ...]" -> ints; throws on anything else.
std::vector<int> parse_int_list(const std::string& text, const std::string& where)
{
    const std::string t = trim(text);
    if (t.size() < 2 || t.front() != '[' || t.back() != ']')
        throw Error(where, "expected a [list] of integers, got '" + t.substr(0, 40) + "'");
    std::vector<int> out;
    std::stringstream ss(t.substr(1, t.size() - 2));
    std::string item;
    while (std::getline(ss, item, ',')) {
        const std::string v = trim(item);
        if (v.empty())
            continue;
        size_t used = 0;
        int n = 0;
        try {
            n = std::stoi(v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v.size())
            throw Error(where, "'" + v + "' is not an integer");
        out.push_back(n);
    }
    return out;
}

// The first file in `dir` whose name ends with `suffix`.
std::string find_suffix(const std::string& dir, const std::string& suffix)
{
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            return e.path().string();
    }
    return {};
}

bool sample_complete(const std::string& dst, const std::string& split, const std::string& id,
                     const std::vector<std::string>& exts)
{
    const char* roles[3] = {"input", "guide", "target"};
    for (int r = 0; r < 3; ++r)
        if (!fs::exists(fs::path(dst) / split / roles[r] / (id + exts[static_cast<size_t>(r)])))
            return false;
    return true;
}

void copy_atomically(const std::string& from, const std::string& to)
{
    write_file_atomically(to, read_file(from));
}

std::string sample_id(int n)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06d", n);
    return buf;
}

} // namespace

Report import_pose_pairs(const std::string& src, const std::string& dst, const Progress& progress)
{
    if (!fs::is_directory(src))
        throw Error(src, "not a folder");
    struct Split {
        std::string name, ours;
        std::string annotations, pairs, images;
    };
    std::vector<Split> splits;
    for (const auto& [theirs, ours] : {std::pair<std::string, std::string>{"train", "train"}, {"test", "val"}}) {
        Split s{theirs, ours, find_suffix(src, "-annotation-" + theirs + ".csv"), find_suffix(src, "-pairs-" + theirs + ".csv"),
                (fs::path(src) / theirs).string()};
        if (s.annotations.empty() && s.pairs.empty())
            continue;
        if (s.annotations.empty() || s.pairs.empty())
            throw Error(src, "has " + std::string(s.annotations.empty() ? "pairs" : "annotations") + " for " + theirs +
                                 " but no *-" + (s.annotations.empty() ? "annotation" : "pairs") + "-" + theirs + ".csv");
        if (!fs::is_directory(s.images))
            throw Error(s.images, "missing: the " + theirs + " images are expected here");
        splits.push_back(s);
    }
    if (splits.empty())
        throw Error(src, "no *-annotation-train.csv / *-pairs-train.csv (DeepFashion or Market-1501 as Pose-Transfer ships them)");

    DatasetInfo info;
    info.root = dst;
    info.task = "pose";
    info.input_nc = 3, info.guide_nc = 18, info.output_nc = 3;
    fs::create_directories(dst);
    info.write();

    Report report;
    struct Job {
        const Split* split;
        std::string from, to;
        int line;
    };
    std::vector<Job> jobs;
    std::map<std::string, std::map<std::string, pose::Pose>> poses; // split -> image -> pose
    for (const Split& s : splits) {
        // Annotations: "name:keypoints_y:keypoints_x" header, rows "<image>: [y...]: [x...]".
        std::istringstream lines(read_file(s.annotations));
        std::string line;
        int n = 0;
        while (std::getline(lines, line)) {
            ++n;
            if (trim(line).empty() || (n == 1 && line.find("keypoints_y") != std::string::npos))
                continue;
            const std::string where = s.annotations + ":" + std::to_string(n);
            const auto c1 = line.find(':'), c2 = line.find(':', c1 == std::string::npos ? 0 : c1 + 1);
            if (c1 == std::string::npos || c2 == std::string::npos) {
                report.skipped.push_back({where, "not name: [y]: [x]"});
                continue;
            }
            try {
                const std::vector<int> ys = parse_int_list(line.substr(c1 + 1, c2 - c1 - 1), where);
                const std::vector<int> xs = parse_int_list(line.substr(c2 + 1), where);
                if (ys.size() != pose::kKeypoints || xs.size() != pose::kKeypoints)
                    throw Error(where, "expected 18 y and 18 x values, got " + std::to_string(ys.size()) + " and " +
                                           std::to_string(xs.size()));
                pose::Pose p;
                for (int k = 0; k < pose::kKeypoints; ++k) {
                    const bool present = ys[static_cast<size_t>(k)] >= 0 && xs[static_cast<size_t>(k)] >= 0;
                    p.points[static_cast<size_t>(k)] = {static_cast<float>(xs[static_cast<size_t>(k)]),
                                                        static_cast<float>(ys[static_cast<size_t>(k)]), present ? 1.0f : 0.0f, present};
                }
                poses[s.name][trim(line.substr(0, c1))] = p;
            } catch (const Error& e) {
                report.skipped.push_back({where, e.what()});
            }
        }
        // Pairs: "from,to" with a header.
        std::istringstream pl(read_file(s.pairs));
        n = 0;
        while (std::getline(pl, line)) {
            ++n;
            if (trim(line).empty() || (n == 1 && line.find("from") != std::string::npos))
                continue;
            const auto comma = line.find(',');
            if (comma == std::string::npos) {
                report.skipped.push_back({s.pairs + ":" + std::to_string(n), "not 'from,to'"});
                continue;
            }
            jobs.push_back({&s, trim(line.substr(0, comma)), trim(line.substr(comma + 1)), n});
        }
    }

    std::map<std::string, int> next_id;
    for (size_t j = 0; j < jobs.size(); ++j) {
        if (!progress(static_cast<int>(j), static_cast<int>(jobs.size())))
            break;
        const Job& job = jobs[j];
        const Split& s = *job.split;
        const std::string where = s.pairs + ":" + std::to_string(job.line);
        // Ids follow the pairs file's order, so a resumed import names every sample as before.
        const std::string id = sample_id(next_id[s.ours]++);
        const std::string ext_in = fs::path(job.from).extension().string(), ext_out = fs::path(job.to).extension().string();
        if (sample_complete(dst, s.ours, id, {ext_in, ".json", ext_out})) {
            ++report.kept;
            continue;
        }
        const auto pit = poses[s.name].find(job.to);
        if (pit == poses[s.name].end()) {
            report.skipped.push_back({where, "no keypoints for '" + job.to + "' in " + s.annotations});
            continue;
        }
        if (pit->second.present_count() == 0) {
            report.skipped.push_back({where, "'" + job.to + "' has no detected joints (all -1)"});
            continue;
        }
        const std::string from = (fs::path(s.images) / job.from).string(), to = (fs::path(s.images) / job.to).string();
        try {
            const cv::Mat a = decode_image_file(from);
            const cv::Mat b = decode_image_file(to);
            if (a.size() != b.size())
                throw Error(to, "is " + std::to_string(b.cols) + "x" + std::to_string(b.rows) + ", its partner " +
                                    std::to_string(a.cols) + "x" + std::to_string(a.rows));
            for (const pose::Keypoint& k : pit->second.points)
                if (k.present && (k.x >= b.cols || k.y >= b.rows))
                    throw Error(s.annotations, "a joint of '" + job.to + "' lies outside its " + std::to_string(b.cols) + "x" +
                                                   std::to_string(b.rows) + " image (y and x swapped?)");
            for (const char* role : {"input", "guide", "target"})
                fs::create_directories(fs::path(dst) / s.ours / role);
            pose::PoseFile pf;
            pf.people.push_back(pit->second);
            pf.canvas_width = b.cols;
            pf.canvas_height = b.rows;
            // Guide and input first: the target last, so a sample is complete only when all exist.
            pose::write_openpose_json((fs::path(dst) / s.ours / "guide" / (id + ".json")).string(), pf);
            copy_atomically(from, (fs::path(dst) / s.ours / "input" / (id + ext_in)).string());
            copy_atomically(to, (fs::path(dst) / s.ours / "target" / (id + ext_out)).string());
            ++report.written;
        } catch (const std::exception& e) {
            report.skipped.push_back({where, e.what()});
        }
    }
    for (const Split& s : splits)
        report.counts.emplace_back(s.ours, static_cast<int>(sample_ids(info, s.ours).size()));
    return report;
}

namespace {

// Owns an HDF5 handle; closes it with the matching function.
class H5 {
public:
    H5(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~H5() { if (id_ >= 0) close_(id_); }
    H5(const H5&) = delete;
    H5& operator=(const H5&) = delete;
    hid_t get() const { return id_; }
    bool ok() const { return id_ >= 0; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

std::vector<hsize_t> dims_of(hid_t dataset)
{
    H5 space(H5Dget_space(dataset), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> d(static_cast<size_t>(std::max(0, rank)));
    if (rank > 0)
        H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    return d;
}

// Reads frame `n` (the leading dimension) of `dataset` as `type` into `out`.
void read_frame(hid_t dataset, const std::vector<hsize_t>& dims, hsize_t n, hid_t type, void* out, const std::string& where)
{
    H5 space(H5Dget_space(dataset), H5Sclose);
    std::vector<hsize_t> start(dims.size(), 0), count(dims);
    start[0] = n;
    count[0] = 1;
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    H5 memory(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    if (H5Dread(dataset, type, memory.get(), space.get(), H5P_DEFAULT, out) < 0)
        throw Error(where, "frame " + std::to_string(n) + " cannot be read (damaged file?)");
}

std::string number(double v)
{
    std::ostringstream o;
    o << v;
    return o.str();
}

// A MATLAB .mat file of any version (v5, as MATLAB and scipy.io.savemat write by default, or
// v7.3 = HDF5), read with libmatio. Variables are read by header first, data by slab, so a frame
// of a 1000-frame file costs one frame of memory.
class MatFile {
public:
    explicit MatFile(std::string path) : path_(std::move(path))
    {
        if (!fs::is_regular_file(path_))
            throw Error(path_, "no such file");
        mat_ = Mat_Open(path_.c_str(), MAT_ACC_RDONLY);
        if (!mat_)
            throw Error(path_, "is not a MATLAB .mat file (or is damaged)");
    }
    ~MatFile()
    {
        for (matvar_t* v : vars_)
            Mat_VarFree(v);
        Mat_Close(mat_);
    }
    MatFile(const MatFile&) = delete;
    MatFile& operator=(const MatFile&) = delete;
    const std::string& path() const { return path_; }

    // The shape and type of `name`, without its data.
    matvar_t* header(const std::string& name)
    {
        matvar_t* v = Mat_VarReadInfo(mat_, name.c_str());
        if (!v)
            throw Error(path_, "has no variable '" + name + "'");
        vars_.push_back(v);
        if (v->isComplex || v->class_type == MAT_C_SPARSE || v->rank < 1 || v->rank > 4)
            throw Error(path_, "'" + name + "' is not a real dense array of 1 to 4 dimensions");
        return v;
    }

    // Elements [first, first + count) of `v` in MATLAB's (column-major) order, as doubles. Linear
    // reads: matio 1.5.23's N-d slab reads of v5 files start at the wrong element.
    std::vector<double> linear(matvar_t* v, size_t first, size_t count)
    {
        if (count > (size_t{1} << 28))
            throw Error(path_, std::string("'") + v->name + "' is too large to read at once");
        std::vector<double> out(count);
        auto convert = [&](auto tag) {
            using T = decltype(tag);
            std::vector<T> raw(count);
            if (Mat_VarReadDataLinear(mat_, v, raw.data(), static_cast<int>(first), 1, static_cast<int>(count)) != 0)
                throw Error(path_, std::string("'") + v->name + "' cannot be read (damaged file?)");
            std::copy(raw.begin(), raw.end(), out.begin());
        };
        switch (v->class_type) {
        case MAT_C_DOUBLE: convert(double{}); break;
        case MAT_C_SINGLE: convert(float{}); break;
        case MAT_C_UINT8: convert(uint8_t{}); break;
        case MAT_C_UINT16: convert(uint16_t{}); break;
        case MAT_C_INT16: convert(int16_t{}); break;
        case MAT_C_INT32: convert(int32_t{}); break;
        case MAT_C_UINT32: convert(uint32_t{}); break;
        default: throw Error(path_, std::string("'") + v->name + "' is not a numeric array");
        }
        return out;
    }

    // All of a (small) numeric variable.
    std::vector<double> all(const std::string& name)
    {
        matvar_t* v = header(name);
        size_t count = 1;
        for (int d : dims(v))
            count *= static_cast<size_t>(d);
        return linear(v, 0, count);
    }

    static std::vector<int> dims(const matvar_t* v)
    {
        std::vector<int> d;
        for (int i = 0; i < v->rank; ++i)
            d.push_back(static_cast<int>(v->dims[i]));
        return d;
    }

private:
    std::string path_;
    mat_t* mat_ = nullptr;
    std::vector<matvar_t*> vars_;
};

// The official NYU split: frame index (0-based) -> "train", "val" or "" (in neither list).
std::vector<std::string> official_split(const std::string& splits_file, int n)
{
    MatFile mat(splits_file);
    std::vector<std::string> split(static_cast<size_t>(n));
    for (const auto& [name, ours] : {std::pair<std::string, std::string>{"trainNdxs", "train"}, {"testNdxs", "val"}})
        for (double d : mat.all(name)) {
            const long k = std::lround(d);
            if (k < 1 || k > n || static_cast<double>(k) != d)
                throw Error(splits_file, "'" + name + "' holds " + std::to_string(d) + ", not a frame number from 1 to " + std::to_string(n));
            std::string& s = split[static_cast<size_t>(k - 1)];
            if (!s.empty())
                throw Error(splits_file, "frame " + std::to_string(k) + " is listed twice");
            s = ours;
        }
    return split;
}

// The authors' precomputed low-resolution inputs of one split: `input_<F>x_<split>.mat`, a
// H x W [x 1] x N array in [0, 1].
class AuthorsInputs {
public:
    AuthorsInputs(const std::string& dir, int factor, const std::string& split, int frames, int w, int h, float scale_m)
        : name_("input_" + std::to_string(factor) + "x_" + split), mat_((fs::path(dir) / (name_ + ".mat")).string()),
          var_(mat_.header(name_)), scale_(scale_m), w_(w), h_(h)
    {
        dims_ = MatFile::dims(var_);
        const bool ok = dims_.size() >= 3 && dims_[0] == h && dims_[1] == w &&
                        ((dims_.size() == 3 && dims_[2] == frames) || (dims_.size() == 4 && dims_[2] == 1 && dims_[3] == frames));
        if (!ok) {
            std::string shape;
            for (int d : dims_)
                shape += (shape.empty() ? "" : " x ") + std::to_string(d);
            throw Error(mat_.path(), "'" + name_ + "' is " + shape + "; expected " + std::to_string(h) + " x " + std::to_string(w) +
                                         " x 1 x " + std::to_string(frames) + " (the frames of this split)");
        }
    }
    const std::string& path() const { return mat_.path(); }

    // Frame k of the split, in metres, 1 x H x W.
    at::Tensor frame(int k)
    {
        const size_t frame = static_cast<size_t>(w_) * static_cast<size_t>(h_);
        std::vector<double> v = mat_.linear(var_, frame * static_cast<size_t>(k), frame);
        // Column-major (y fastest): as a W x H array, then transposed. Clipped as the authors' loader does.
        at::Tensor t = at::from_blob(v.data(), {1, w_, h_}, at::kDouble).transpose(1, 2).to(at::kFloat).contiguous();
        if (!at::isfinite(t).all().item<bool>())
            throw Error(mat_.path(), "frame " + std::to_string(k + 1) + " of '" + name_ + "' has NaN or Inf values");
        return t.clamp(0, 1).mul(scale_);
    }

private:
    std::string name_;
    MatFile mat_;
    matvar_t* var_;
    std::vector<int> dims_;
    float scale_;
    int w_, h_;
};

} // namespace

Report import_nyu(const std::string& mat_file, const std::string& dst, const NyuOptions& options, const Progress& progress)
{
    if (options.factor != 4 && options.factor != 8 && options.factor != 16)
        throw Error("the factor must be 4, 8 or 16, got " + std::to_string(options.factor));
    if (!fs::is_regular_file(mat_file))
        throw Error(mat_file, "no such file");
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // errors are ours to report, not printed by the library
    if (H5Fis_hdf5(mat_file.c_str()) <= 0)
        throw Error(mat_file, "not a MATLAB v7.3 (HDF5) file; nyu_depth_v2_labeled.mat is one");
    H5 file(H5Fopen(mat_file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.ok())
        throw Error(mat_file, "cannot be opened as HDF5");
    H5 images(H5Dopen2(file.get(), "images", H5P_DEFAULT), H5Dclose);
    H5 depths(H5Dopen2(file.get(), "depths", H5P_DEFAULT), H5Dclose);
    if (!images.ok() || !depths.ok())
        throw Error(mat_file, "has no 'images' and 'depths' (is it nyu_depth_v2_labeled.mat?)");
    const std::vector<hsize_t> di = dims_of(images.get()), dd = dims_of(depths.get());
    // MATLAB writes column-major: HDF5 sees frames x 3 x width x height and frames x width x height.
    if (di.size() != 4 || di[1] != 3 || dd.size() != 3 || di[0] != dd[0] || di[2] != dd[1] || di[3] != dd[2])
        throw Error(mat_file, "'images' and 'depths' do not have the NYU layout (N x 3 x W x H and N x W x H)");
    const int n = static_cast<int>(di[0]), w = static_cast<int>(di[2]), h = static_cast<int>(di[3]);

    DatasetInfo info;
    info.root = dst;
    info.task = "depth";
    info.input_nc = 1, info.guide_nc = 3, info.output_nc = 1;
    info.units_per_metre = 1000;
    info.near_m = 0;
    info.far_m = 10;
    info.factor = options.factor;
    fs::create_directories(dst);
    info.write();

    Report report;
    std::vector<std::string> splits(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        splits[static_cast<size_t>(i)] = i < options.train_count ? "train" : "val";
    if (!options.splits_file.empty()) {
        if (!options.inputs_dir.empty())
            throw Error(options.splits_file, "the authors' precomputed inputs follow the paper's split (first 1000 / last 449), not the official one: use one or the other");
        splits = official_split(options.splits_file, n);
    }
    std::map<std::string, std::unique_ptr<AuthorsInputs>> authors;
    const int train = std::clamp(options.train_count, 0, n); // frames of the paper's train split
    if (!options.inputs_dir.empty()) {
        authors["train"] = std::make_unique<AuthorsInputs>(options.inputs_dir, options.factor, "train", train, w, h, options.inputs_scale_m);
        authors["val"] = std::make_unique<AuthorsInputs>(options.inputs_dir, options.factor, "test", n - train, w, h, options.inputs_scale_m);
    }
    std::map<std::string, bool> scale_checked;
    std::vector<uint8_t> rgb(static_cast<size_t>(3) * w * h);
    std::vector<float> metres(static_cast<size_t>(w) * h);
    depth::FileOptions units;
    units.units_per_metre = info.units_per_metre;
    for (int i = 0; i < n; ++i) {
        if (!progress(i, n))
            break;
        const std::string split = splits[static_cast<size_t>(i)];
        const std::string id = sample_id(i);
        if (split.empty()) {
            report.skipped.push_back({options.splits_file, "frame " + std::to_string(i + 1) + " is in neither trainNdxs nor testNdxs"});
            continue;
        }
        if (sample_complete(dst, split, id, {".png", ".png", ".png"})) {
            ++report.kept;
            continue;
        }
        const std::string where = mat_file + " frame " + std::to_string(i + 1);
        try {
            read_frame(images.get(), di, static_cast<hsize_t>(i), H5T_NATIVE_UINT8, rgb.data(), mat_file);
            read_frame(depths.get(), dd, static_cast<hsize_t>(i), H5T_NATIVE_FLOAT, metres.data(), mat_file);
            // [c][x][y] -> C x H x W.
            const at::Tensor guide = at::from_blob(rgb.data(), {3, w, h}, at::kByte).transpose(1, 2).to(at::kFloat).div(127.5).sub(1.0);
            const at::Tensor target = at::from_blob(metres.data(), {1, w, h}, at::kFloat).transpose(1, 2).contiguous().clone();
            if (!at::isfinite(target).all().item<bool>() || (target < 0).any().item<bool>())
                throw Error(where, "depth has NaN or negative values");
            if ((target > info.far_m).any().item<bool>())
                throw Error(where, "depth beyond " + std::to_string(info.far_m) + " m");
            for (const char* role : {"input", "guide", "target"})
                fs::create_directories(fs::path(dst) / split / role);
            at::Tensor input;
            if (authors.empty()) {
                input = depth::low_resolution_input(target, options.factor);
            } else {
                AuthorsInputs& a = *authors[split];
                input = a.frame(split == "train" ? i : i - train);
                // The files hold [0, 1]; a wrong --inputs-scale shows as a mean far from the depth's.
                if (!scale_checked[split]) {
                    scale_checked[split] = true;
                    const double ratio = input.mean().item<double>() / std::max(1e-6, target.mean().item<double>());
                    if (ratio < 0.85 || ratio > 1.15)
                        report.notes.push_back({a.path(), "the first frame's mean input is " + std::to_string(static_cast<int>(std::lround(ratio * 100))) +
                                                              "% of its depth's at " + number(options.inputs_scale_m) + " m per unit: is the scale right?"});
                }
            }
            write_image((fs::path(dst) / split / "guide" / (id + ".png")).string(), guide);
            depth::write_depth((fs::path(dst) / split / "input" / (id + ".png")).string(), input, units);
            depth::write_depth((fs::path(dst) / split / "target" / (id + ".png")).string(), target, units);
            ++report.written;
        } catch (const std::exception& e) {
            report.skipped.push_back({where, e.what()});
        }
    }
    for (const char* split : {"train", "val"})
        report.counts.emplace_back(split, static_cast<int>(sample_ids(info, split).size()));
    return report;
}

namespace {

// Shorter side to `size` (area when shrinking), then the centre `size` x `size`.
cv::Mat scale_and_crop(const cv::Mat& m, int size, int interpolation)
{
    const double scale = static_cast<double>(size) / std::min(m.cols, m.rows);
    cv::Mat r;
    cv::resize(m, r, cv::Size(std::max(size, static_cast<int>(std::lround(m.cols * scale))),
                              std::max(size, static_cast<int>(std::lround(m.rows * scale)))),
               0, 0, interpolation);
    return r(cv::Rect((r.cols - size) / 2, (r.rows - size) / 2, size, size)).clone();
}

cv::Mat as_grey(const cv::Mat& m)
{
    cv::Mat g = m;
    if (m.channels() == 3)
        cv::cvtColor(m, g, cv::COLOR_BGR2GRAY);
    else if (m.channels() == 4)
        cv::cvtColor(m, g, cv::COLOR_BGRA2GRAY);
    if (g.depth() != CV_8U)
        g.convertTo(g, CV_8U, 1.0 / 257.0);
    return g;
}

cv::Mat as_bgr(const cv::Mat& m)
{
    cv::Mat c = m;
    if (m.channels() == 1)
        cv::cvtColor(m, c, cv::COLOR_GRAY2BGR);
    else if (m.channels() == 4)
        cv::cvtColor(m, c, cv::COLOR_BGRA2BGR);
    if (c.depth() != CV_8U)
        c.convertTo(c, CV_8U, 1.0 / 257.0);
    return c;
}

// The RGBA guide: the photo's pixels in one square patch centred on a random mask pixel (at least
// half the smallest patch away from the border), transparent elsewhere. Empty when the mask is.
cv::Mat texture_patch_guide(const cv::Mat& photo_bgr, const cv::Mat& mask_grey, std::mt19937_64& rng)
{
    const int size = photo_bgr.cols;
    const int smin = static_cast<int>(std::lround(40.0 * size / 128)), smax = static_cast<int>(std::lround(60.0 * size / 128));
    const int margin = (smin + 1) / 2;
    std::vector<cv::Point> candidates;
    for (int y = margin; y < size - margin; ++y)
        for (int x = margin; x < size - margin; ++x)
            if (mask_grey.at<uint8_t>(y, x) > 127)
                candidates.emplace_back(x, y);
    if (candidates.empty())
        return {};
    const cv::Point c = candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng)];
    const int s = std::uniform_int_distribution<int>(smin, smax)(rng);
    const cv::Rect box = cv::Rect(c.x - s / 2, c.y - s / 2, s, s) & cv::Rect(0, 0, size, size);
    cv::Mat guide(size, size, CV_8UC4, cv::Scalar(0, 0, 0, 0));
    cv::Mat bgra;
    cv::cvtColor(photo_bgr, bgra, cv::COLOR_BGR2BGRA);
    bgra(box).copyTo(guide(box));
    return guide;
}

} // namespace

Report import_pix2pix(const std::string& src, const std::string& dst, const Pix2PixOptions& options, const Progress& progress)
{
    if (options.task != "pose" && options.task != "texture")
        throw Error("pix2pix pairs import into the pose or texture task, not '" + options.task + "'");
    if (options.task == "pose" && options.guides.empty())
        throw Error("pose pairs need their keypoints: give the folder of OpenPose JSON guides");
    if (!fs::is_directory(src))
        throw Error(src, "not a folder");
    struct Item {
        std::string split, image, guide;
    };
    std::vector<Item> items;
    Report report;
    const std::string guide_ext = options.task == "pose" ? ".json" : ".png";
    for (const auto& [theirs, ours] : {std::pair<std::string, std::string>{"train", "train"}, {"val", "val"}, {"test", "val"}}) {
        const fs::path dir = fs::path(src) / theirs;
        if (!fs::is_directory(dir))
            continue;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file() && is_image_path(e.path().string()))
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) {
            std::string guide;
            if (!options.guides.empty()) {
                for (const fs::path& g : {fs::path(options.guides) / theirs / (f.stem().string() + guide_ext),
                                          fs::path(options.guides) / (f.stem().string() + guide_ext)})
                    if (fs::exists(g)) {
                        guide = g.string();
                        break;
                    }
                if (guide.empty()) {
                    report.skipped.push_back({f.string(), "no guide " + f.stem().string() + guide_ext + " in " + options.guides});
                    continue;
                }
            }
            items.push_back({ours, f.string(), guide});
        }
    }
    if (items.empty() && report.skipped.empty())
        throw Error(src, "no train/, val/ or test/ folder of A|B images (the pix2pix layout)");

    DatasetInfo info;
    info.root = dst;
    info.task = options.task;
    if (options.task == "pose")
        info.input_nc = 3, info.guide_nc = 18, info.output_nc = 3;
    else
        info.input_nc = 1, info.guide_nc = 4, info.output_nc = 3;
    fs::create_directories(dst);
    info.write();
    std::map<std::string, int> next_id;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!progress(static_cast<int>(i), static_cast<int>(items.size())))
            break;
        const Item& it = items[i];
        const int n = next_id[it.split]++;
        const std::string id = sample_id(n);
        if (sample_complete(dst, it.split, id, {".png", guide_ext, ".png"})) {
            ++report.kept;
            continue;
        }
        try {
            const cv::Mat ab = as_bgr(decode_image_file(it.image));
            if (ab.cols % 2 != 0)
                throw Error(it.image, "is " + std::to_string(ab.cols) + " px wide: not two halves A | B");
            const int w = ab.cols / 2;
            cv::Mat a = ab(cv::Rect(0, 0, w, ab.rows)).clone(), b = ab(cv::Rect(w, 0, w, ab.rows)).clone();
            if (options.b_to_a)
                std::swap(a, b);
            for (const char* role : {"input", "guide", "target"})
                fs::create_directories(fs::path(dst) / it.split / role);
            const std::string guide_out = (fs::path(dst) / it.split / "guide" / (id + guide_ext)).string();
            if (!it.guide.empty()) {
                copy_atomically(it.guide, guide_out);
            } else {
                // The object: what differs from a white background.
                cv::Mat grey = as_grey(b), object;
                cv::threshold(grey, object, 240, 255, cv::THRESH_BINARY_INV);
                std::mt19937_64 rng(options.seed * 1000003u + static_cast<uint64_t>(n) * 2u + (it.split == "val" ? 1u : 0u));
                const cv::Mat guide = texture_patch_guide(b, object, rng);
                if (guide.empty())
                    throw Error(it.image, "B has no object (all white background) to place a patch in");
                write_image_file(guide_out, guide);
            }
            write_image_file((fs::path(dst) / it.split / "input" / (id + ".png")).string(), options.task == "texture" ? as_grey(a) : a);
            write_image_file((fs::path(dst) / it.split / "target" / (id + ".png")).string(), b);
            ++report.written;
        } catch (const std::exception& e) {
            report.skipped.push_back({it.image, e.what()});
        }
    }
    for (const char* split : {"train", "val"})
        report.counts.emplace_back(split, static_cast<int>(sample_ids(info, split).size()));
    return report;
}

namespace {

// TUM RGB-D's `rgb.txt` / `depth.txt` ("timestamp path" lines, # comments), or timestamps as file
// names (1305031102.175304.png): the frames' times, and the frames in the list's order. False when
// the frames carry no times.
bool timestamps(const std::string& src, const std::string& list_name, std::vector<fs::path>& frames, std::vector<double>& times)
{
    times.clear();
    const fs::path list = fs::path(src) / list_name;
    if (fs::is_regular_file(list)) {
        std::ifstream in(list);
        std::vector<fs::path> listed;
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            if (line.empty() || line[0] == '#')
                continue;
            std::istringstream row(line);
            double t = 0;
            std::string path;
            if (!(row >> t >> path))
                throw Error(list.string(), "line " + std::to_string(n) + " is not 'timestamp path'");
            listed.push_back(fs::path(src) / path);
            times.push_back(t);
        }
        if (listed.empty()) { // a list of comments only: the folder's own listing stands
            times.clear();
            return false;
        }
        frames = listed;
        return true;
    }
    for (const fs::path& f : frames) {
        const std::string stem = f.stem().string();
        char* end = nullptr;
        const double t = std::strtod(stem.c_str(), &end);
        if (stem.find('.') == std::string::npos || end != stem.c_str() + stem.size()) {
            times.clear();
            return false;
        }
        times.push_back(t);
    }
    return !frames.empty();
}

// TUM's association: candidate pairs at most `max_dt` apart, closest first, each frame used once;
// the pairs in colour-time order.
std::vector<std::pair<size_t, size_t>> associate(const std::vector<double>& a, const std::vector<double>& b, double max_dt)
{
    std::vector<size_t> order_b(b.size());
    for (size_t j = 0; j < b.size(); ++j)
        order_b[j] = j;
    std::sort(order_b.begin(), order_b.end(), [&](size_t x, size_t y) { return b[x] < b[y]; });
    std::vector<std::tuple<double, size_t, size_t>> candidates;
    for (size_t i = 0; i < a.size(); ++i) {
        auto it = std::lower_bound(order_b.begin(), order_b.end(), a[i] - max_dt, [&](size_t j, double t) { return b[j] < t; });
        for (; it != order_b.end() && b[*it] <= a[i] + max_dt; ++it)
            candidates.emplace_back(std::abs(a[i] - b[*it]), i, *it);
    }
    std::sort(candidates.begin(), candidates.end());
    std::vector<bool> used_a(a.size(), false), used_b(b.size(), false);
    std::vector<std::pair<size_t, size_t>> pairs;
    for (const auto& [dt, i, j] : candidates)
        if (!used_a[i] && !used_b[j]) {
            used_a[i] = used_b[j] = true;
            pairs.emplace_back(i, j);
        }
    std::sort(pairs.begin(), pairs.end(), [&](const auto& x, const auto& y) { return a[x.first] < a[y.first]; });
    return pairs;
}

} // namespace

Report import_rgbd(const std::string& src, const std::string& dst, const RgbdOptions& options, const Progress& progress)
{
    if (!(options.depth_scale > 0) || !(options.far_m > 0))
        throw Error("the depth scale and far limit must be positive");
    if (options.factor != 4 && options.factor != 8 && options.factor != 16)
        throw Error("the factor must be 4, 8 or 16, got " + std::to_string(options.factor));
    if (!fs::is_directory(src))
        throw Error(src, "not a folder");
    std::string colour_dir;
    for (const char* name : {"color", "colour", "rgb", "image"})
        if (fs::is_directory(fs::path(src) / name)) {
            colour_dir = (fs::path(src) / name).string();
            break;
        }
    const std::string depth_dir = (fs::path(src) / "depth").string();
    if (colour_dir.empty() || !fs::is_directory(depth_dir))
        throw Error(src, "expected a colour folder (color/, colour/, rgb/ or image/) and depth/ beside it");
    auto list = [](const std::string& dir) {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file() && is_image_path(e.path().string()))
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
        return files;
    };
    std::vector<fs::path> colours = list(colour_dir), depths = list(depth_dir);
    Report report;
    std::vector<std::pair<fs::path, fs::path>> frames;
    std::vector<double> colour_times, depth_times;
    const bool timed = timestamps(src, "rgb.txt", colours, colour_times) && timestamps(src, "depth.txt", depths, depth_times);
    if (timed) {
        // TUM RGB-D: the cameras are not in step; pair by time as TUM's associate.py does.
        std::vector<bool> paired(colours.size(), false);
        for (const auto& [c, d] : associate(colour_times, depth_times, options.max_time_difference)) {
            frames.emplace_back(colours[c], depths[d]);
            paired[c] = true;
        }
        for (size_t c = 0; c < colours.size(); ++c)
            if (!paired[c])
                report.skipped.push_back({colours[c].string(), "no depth frame within " + number(options.max_time_difference * 1000) + " ms of it"});
        if (frames.empty())
            throw Error(src, "no colour and depth frames within " + number(options.max_time_difference * 1000) + " ms of each other");
    }
    std::map<std::string, fs::path> depth_by_stem;
    if (!timed) {
        for (const fs::path& d : depths)
            depth_by_stem[d.stem().string()] = d;
        for (const fs::path& c : colours) {
            const auto it = depth_by_stem.find(c.stem().string());
            if (it != depth_by_stem.end())
                frames.emplace_back(c, it->second);
        }
    }
    if (timed) {
        // paired by time above
    } else if (frames.empty() && !colours.empty() && colours.size() == depths.size()) {
        for (size_t i = 0; i < colours.size(); ++i)
            frames.emplace_back(colours[i], depths[i]);
        report.notes.push_back({src, "colour and depth names differ: paired by order (" + std::to_string(frames.size()) + " frames)"});
    } else {
        for (const fs::path& c : colours)
            if (!depth_by_stem.count(c.stem().string()))
                report.skipped.push_back({c.string(), "no depth frame of the same name"});
    }
    if (frames.empty())
        throw Error(src, "no colour and depth frames that pair up");

    DatasetInfo info;
    info.root = dst;
    info.task = "depth";
    info.input_nc = 1, info.guide_nc = 3, info.output_nc = 1;
    info.units_per_metre = 1000;
    info.near_m = 0;
    info.far_m = options.far_m;
    info.factor = options.factor;
    info.holes = true;
    fs::create_directories(dst);
    info.write();
    depth::FileOptions units;
    units.units_per_metre = 1000;
    const int n = static_cast<int>(frames.size());
    const int val_from = n - static_cast<int>(std::lround(n * std::clamp(options.val_fraction, 0.0, 1.0)));
    for (int i = 0; i < n; ++i) {
        if (!progress(i, n))
            break;
        const std::string split = i < val_from ? "train" : "val";
        const std::string id = sample_id(i);
        if (sample_complete(dst, split, id, {".png", ".png", ".png"})) {
            ++report.kept;
            continue;
        }
        const auto& [colour_path, depth_path] = frames[static_cast<size_t>(i)];
        try {
            cv::Mat colour = as_bgr(decode_image_file(colour_path.string()));
            cv::Mat raw = decode_image_file(depth_path.string());
            if (raw.channels() != 1 || raw.depth() != CV_16U)
                throw Error(depth_path.string(), "is not a one-channel 16-bit PNG");
            if (raw.size() != colour.size())
                throw Error(depth_path.string(), "is " + std::to_string(raw.cols) + "x" + std::to_string(raw.rows) + ", its colour frame " +
                                                     std::to_string(colour.cols) + "x" + std::to_string(colour.rows));
            if (options.size > 0) {
                colour = scale_and_crop(colour, options.size, cv::INTER_AREA);
                raw = scale_and_crop(raw, options.size, cv::INTER_NEAREST);
            }
            cv::Mat metres_mat;
            raw.convertTo(metres_mat, CV_32F, 1.0 / options.depth_scale);
            const at::Tensor metres = at::from_blob(metres_mat.ptr<float>(), {1, metres_mat.rows, metres_mat.cols}, at::kFloat).clone();
            if ((metres > 0).sum().item<int64_t>() == 0)
                throw Error(depth_path.string(), "has no depth reading at all");
            // Beyond the far limit: a reading the range cannot hold; kept out like a hole, and said.
            const int64_t far = (metres > options.far_m).sum().item<int64_t>();
            const at::Tensor kept = at::where(metres > options.far_m, at::zeros_like(metres), metres);
            if (far > 0)
                report.notes.push_back({depth_path.string(), std::to_string(far) + " readings beyond " + std::to_string(options.far_m) +
                                                                   " m kept as holes (raise --far to keep them)"});
            for (const char* role : {"input", "guide", "target"})
                fs::create_directories(fs::path(dst) / split / role);
            write_image_file((fs::path(dst) / split / "guide" / (id + ".png")).string(), colour);
            depth::write_depth((fs::path(dst) / split / "input" / (id + ".png")).string(), depth::low_resolution_input(kept, options.factor), units);
            depth::write_depth((fs::path(dst) / split / "target" / (id + ".png")).string(), kept, units);
            ++report.written;
        } catch (const std::exception& e) {
            report.skipped.push_back({colour_path.string(), e.what()});
        }
    }
    for (const char* split : {"train", "val"})
        report.counts.emplace_back(split, static_cast<int>(sample_ids(info, split).size()));
    return report;
}

Report import_texturegan(const std::string& src, const std::string& dst, const TextureGanOptions& options, const Progress& progress)
{
    if (!fs::is_directory(src))
        throw Error(src, "not a folder");
    struct Item {
        std::string split, img, skg, seg;
    };
    std::vector<Item> items;
    Report report;
    for (const auto& [theirs, ours] : {std::pair<std::string, std::string>{"train", "train"}, {"val", "val"}}) {
        const fs::path img_root = fs::path(src) / (theirs + "_img");
        if (!fs::is_directory(img_root))
            continue;
        std::vector<fs::path> imgs;
        for (const auto& e : fs::recursive_directory_iterator(img_root))
            if (e.is_regular_file())
                imgs.push_back(e.path());
        std::sort(imgs.begin(), imgs.end());
        for (const fs::path& img : imgs) {
            const fs::path rel = fs::relative(img, img_root); // <class>/<name>.jpg
            const fs::path skg = fs::path(src) / (theirs + "_skg") / rel, seg = fs::path(src) / (theirs + "_seg") / rel;
            if (!fs::exists(skg) || !fs::exists(seg)) {
                report.skipped.push_back({img.string(), std::string("no matching ") + (!fs::exists(skg) ? skg.string() : seg.string())});
                continue;
            }
            items.push_back({ours, img.string(), skg.string(), seg.string()});
        }
    }
    if (items.empty() && report.skipped.empty())
        throw Error(src, "no train_img/ or val_img/ folders (the TextureGAN layout: {train,val}_{img,skg,seg}/<class>/*.jpg)");

    DatasetInfo info;
    info.root = dst;
    info.task = "texture";
    info.input_nc = 1, info.guide_nc = 4, info.output_nc = 3;
    fs::create_directories(dst);
    info.write();
    std::map<std::string, int> next_id;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!progress(static_cast<int>(i), static_cast<int>(items.size())))
            break;
        const Item& it = items[i];
        const int n = next_id[it.split]++;
        const std::string id = sample_id(n);
        if (sample_complete(dst, it.split, id, {".png", ".png", ".png"})) {
            ++report.kept;
            continue;
        }
        try {
            const cv::Mat photo = scale_and_crop(as_bgr(decode_image_file(it.img)), options.size, cv::INTER_AREA);
            const cv::Mat sketch = scale_and_crop(as_grey(decode_image_file(it.skg)), options.size, cv::INTER_AREA);
            const cv::Mat mask = scale_and_crop(as_grey(decode_image_file(it.seg)), options.size, cv::INTER_NEAREST);
            // One generator per sample, seeded by its place: a resumed import draws the same patches.
            std::mt19937_64 rng(options.seed * 1000003u + static_cast<uint64_t>(n) * 2u + (it.split == "val" ? 1u : 0u));
            const cv::Mat guide = texture_patch_guide(photo, mask, rng);
            if (guide.empty())
                throw Error(it.seg, "the object mask is empty (or only at the border)");
            for (const char* role : {"input", "guide", "target"})
                fs::create_directories(fs::path(dst) / it.split / role);
            write_image_file((fs::path(dst) / it.split / "input" / (id + ".png")).string(), sketch);
            write_image_file((fs::path(dst) / it.split / "guide" / (id + ".png")).string(), guide);
            write_image_file((fs::path(dst) / it.split / "target" / (id + ".png")).string(), photo);
            ++report.written;
        } catch (const std::exception& e) {
            report.skipped.push_back({it.img, e.what()});
        }
    }
    for (const char* split : {"train", "val"})
        report.counts.emplace_back(split, static_cast<int>(sample_ids(info, split).size()));
    return report;
}

const std::vector<std::string>& formats()
{
    static const std::vector<std::string> names{"pose-pairs", "nyu", "texturegan", "pix2pix", "rgbd"};
    return names;
}

Report import(const std::string& format, const std::string& src, const std::string& dst, const Options& options, const Progress& progress)
{
    if (format == "pose-pairs")
        return import_pose_pairs(src, dst, progress);
    if (format == "nyu")
        return import_nyu(src, dst, options.nyu, progress);
    if (format == "texturegan")
        return import_texturegan(src, dst, options.texturegan, progress);
    if (format == "pix2pix")
        return import_pix2pix(src, dst, options.pix2pix, progress);
    if (format == "rgbd")
        return import_rgbd(src, dst, options.rgbd, progress);
    std::string known;
    for (const std::string& f : formats())
        known += (known.empty() ? "" : ", ") + f;
    throw Error("unknown dataset format '" + format + "' (" + known + ")");
}

} // namespace bft::importers
