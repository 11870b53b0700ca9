#include "artifact/local/local_artifact_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>

#include "base/ids.h"

namespace cairn::artifact {
namespace {

// Names starting with kTempPrefix are reserved: never listed, never accepted as paths.
constexpr std::string_view kTempPrefix = ".cairn-tmp-";
constexpr std::string_view kStagingDir = ".cairn-tmp-staging";
// Staged files whose owner cannot be told apart from a live one (the flat layout of earlier
// versions, or a filesystem without flock) count as leftovers of a crash once this old.
constexpr int64_t kStaleStagingSeconds = int64_t{24} * 3600;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes and reports the result (close can surface a delayed write error).
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_ = -1;
};

// Maps an errno from a filesystem call on artifact `path` to the store's error space. Messages
// name the artifact path only, never the server's directory layout.
Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = std::string(what) + " '" + std::string(path) + "': " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFound(std::move(msg));
    case ENOTDIR:
    case EISDIR:
    case EEXIST:
    case ENOTEMPTY:
    case ENAMETOOLONG:
    case ELOOP:
      return InvalidArgument(std::move(msg));
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
    case EINTR:
    case ENOMEM:
      return Unavailable(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

bool IsTempName(std::string_view name) { return name.substr(0, kTempPrefix.size()) == kTempPrefix; }

// Splits a canonical store path into segments, rejecting anything NormalizeArtifactPath would
// change and the reserved temporary-file names.
StatusOr<std::vector<std::string>> Segments(std::string_view path) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeArtifactPath(path));
  if (normalized != path) {
    return InvalidArgument("artifact path '" + std::string(path) + "' is not canonical");
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start < normalized.size()) {
    size_t end = normalized.find('/', start);
    if (end == std::string::npos) end = normalized.size();
    out.push_back(normalized.substr(start, end - start));
    if (IsTempName(out.back())) {
      return InvalidArgument("artifact path '" + std::string(path) + "' uses a reserved name");
    }
    start = end + 1;
  }
  return out;
}

// A fresh descriptor of the directory `dir_fd` with its own read position (a dup would share
// one with other threads listing the same directory).
StatusOr<UniqueFd> ReopenDir(int dir_fd, std::string_view path) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open directory for", path);
  return UniqueFd(fd);
}

// Opens the directory made of segments [0, count) below root_fd without following symbolic
// links, creating missing directories when `create` is set. NOT_FOUND when one is missing,
// INVALID_ARGUMENT when one is a file or a link.
StatusOr<UniqueFd> OpenDirChain(int root_fd, const std::vector<std::string>& segments, size_t count,
                                bool create, std::string_view path) {
  ASSIGN_OR_RETURN(UniqueFd current, ReopenDir(root_fd, path));
  for (size_t i = 0; i < count; ++i) {
    const std::string& name = segments[i];
    // A concurrent Delete may remove a directory between mkdirat and openat; try again then.
    int fd = -1;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (create && ::mkdirat(current.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, "cannot create directory for", path);
      }
      fd = ::openat(current.get(), name.c_str(), kDirFlags);
      if (fd >= 0 || errno != ENOENT || !create) break;
    }
    if (fd < 0) {
      int err = errno;
      if (err == ENOTDIR || err == ELOOP) {
        std::string prefix;
        for (size_t j = 0; j <= i; ++j) prefix += (j ? "/" : "") + segments[j];
        return InvalidArgument("artifact path '" + std::string(path) + "' collides with '" +
                               prefix + "', which is not a directory");
      }
      return ErrnoStatus(err, "cannot open directory for", path);
    }
    current = UniqueFd(fd);
  }
  return current;
}

// Names in a directory except "." and "..".
StatusOr<std::vector<std::string>> ReadNames(int dir_fd, std::string_view path) {
  ASSIGN_OR_RETURN(UniqueFd own, ReopenDir(dir_fd, path));
  DIR* dir = ::fdopendir(own.get());
  if (dir == nullptr) return ErrnoStatus(errno, "cannot list", path);
  own.Release();  // now owned by `dir`
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoStatus(err, "cannot list", path);
  return names;
}

Status RemoveEntry(int parent_fd, const std::string& name, std::string_view path);

Status RemoveContents(int dir_fd, std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(dir_fd, path));
  for (const std::string& name : names) RETURN_IF_ERROR(RemoveEntry(dir_fd, name, path));
  return Status::Ok();
}

Status RemoveEntry(int parent_fd, const std::string& name, std::string_view path) {
  // A writer may commit a file into the tree while it is being removed; go round again then.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (::unlinkat(parent_fd, name.c_str(), 0) == 0 || errno == ENOENT) return Status::Ok();
    if (errno != EISDIR && errno != EPERM) return ErrnoStatus(errno, "cannot delete", path);
    int fd = ::openat(parent_fd, name.c_str(), kDirFlags);
    if (fd < 0) {
      if (errno == ENOENT) return Status::Ok();
      return ErrnoStatus(errno, "cannot delete", path);
    }
    UniqueFd dir(fd);
    RETURN_IF_ERROR(RemoveContents(dir.get(), path));
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      return Status::Ok();
    }
    if (errno != ENOTEMPTY && errno != EEXIST) return ErrnoStatus(errno, "cannot delete", path);
  }
  return Unavailable("cannot delete '" + std::string(path) + "': it keeps being written to");
}

// ---- Staging ----
//
// Uploads are staged in <root>/.cairn-tmp-staging/<id>/, one folder per open store, on the same
// filesystem as their targets so that the final rename is atomic. The store holds an exclusive
// flock on its folder, and every writer a duplicate of that descriptor, so the lock lasts until
// the store and all its writers are gone, however they go. A folder whose lock is free therefore
// belongs to nobody any more, and Open removes it with everything staged in it at once; folders
// of stores still open, in this process or another sharing the root, are left alone.

// True when `fd` is still the directory `name` in `parent_fd` (not removed or replaced).
bool IsStillNamed(int fd, int parent_fd, const std::string& name) {
  struct stat own {};
  struct stat named {};
  return ::fstat(fd, &own) == 0 &&
         ::fstatat(parent_fd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
         own.st_dev == named.st_dev && own.st_ino == named.st_ino;
}

// Removes the regular files in `dir_fd` last modified before `cutoff` (seconds since the epoch).
void RemoveFilesOlderThan(int dir_fd, int64_t cutoff) {
  auto names = ReadNames(dir_fd, "");
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        static_cast<int64_t>(st.st_mtime) < cutoff) {
      ::unlinkat(dir_fd, name.c_str(), 0);
    }
  }
}

// Best effort: removes what stores that are gone (crashed, killed, or closed with a writer
// still open) staged.
void SweepStaging(int root_fd) {
  int fd = ::openat(root_fd, std::string(kStagingDir).c_str(), kDirFlags);
  if (fd < 0) return;
  UniqueFd staging(fd);
  auto names = ReadNames(staging.get(), "");
  if (!names.ok()) return;
  const int64_t cutoff = static_cast<int64_t>(::time(nullptr)) - kStaleStagingSeconds;
  RemoveFilesOlderThan(staging.get(), cutoff);  // the flat layout of earlier versions
  for (const std::string& name : *names) {
    int dir_fd = ::openat(staging.get(), name.c_str(), kDirFlags);
    if (dir_fd < 0) continue;  // a file, or gone meanwhile
    UniqueFd dir(dir_fd);
    if (::flock(dir.get(), LOCK_EX | LOCK_NB) != 0) {
      // Held: a live store's. Any other error: locks do not work here, so fall back to age.
      if (errno != EWOULDBLOCK) RemoveFilesOlderThan(dir.get(), cutoff);
      continue;
    }
    // Another Open may have swept it between our openat and flock.
    if (!IsStillNamed(dir.get(), staging.get(), name)) continue;
    RemoveContents(dir.get(), "").IgnoreError();
    ::unlinkat(staging.get(), name.c_str(), AT_REMOVEDIR);
  }
}

// A store's staging folder: its locked descriptor and its name in the staging directory.
struct StagingFolder {
  UniqueFd fd;
  std::string name;
};

// Creates and locks a new staging folder for a store.
StatusOr<StagingFolder> CreateStagingFolder(int root_fd) {
  auto failed = [](std::string_view what) {
    return Unavailable("cannot create the upload staging directory: " + std::string(what) + ": " +
                       std::strerror(errno));
  };
  if (::mkdirat(root_fd, std::string(kStagingDir).c_str(), 0700) != 0 && errno != EEXIST) {
    return failed("mkdir");
  }
  int fd = ::openat(root_fd, std::string(kStagingDir).c_str(), kDirFlags);
  if (fd < 0) return failed("open");
  UniqueFd staging(fd);
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string name = IdGenerator::Default().Hex32();
    if (::mkdirat(staging.get(), name.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return failed("mkdir");
    }
    // Until it is locked, a sweeping Open elsewhere may take the new folder for a dead store's
    // and remove it; then try another.
    int dir_fd = ::openat(staging.get(), name.c_str(), kDirFlags);
    if (dir_fd < 0) continue;
    UniqueFd dir(dir_fd);
    if (::flock(dir.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) continue;
    if (!IsStillNamed(dir.get(), staging.get(), name)) continue;
    return StagingFolder{std::move(dir), std::move(name)};
  }
  return Unavailable("cannot create the upload staging directory: it keeps being removed");
}

class LocalArtifactReader : public ArtifactReader {
 public:
  LocalArtifactReader(UniqueFd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  uint64_t Size() const override { return size_; }

  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    while (true) {
      ssize_t n = ::read(fd_.get(), buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus(errno, "cannot read", path_);
    }
  }

 private:
  UniqueFd fd_;
  uint64_t size_;
  std::string path_;
};

// Bytes go to a randomly named file in the staging directory; Commit creates the target's parent
// directories and renames the file into place, so an aborted upload leaves no trace at all.
class LocalArtifactWriter : public ArtifactWriter {
 public:
  LocalArtifactWriter(UniqueFd root, UniqueFd staging, UniqueFd file, std::string temp_name,
                      std::vector<std::string> segments, std::string path, bool durable)
      : root_(std::move(root)),
        staging_(std::move(staging)),
        file_(std::move(file)),
        temp_name_(std::move(temp_name)),
        segments_(std::move(segments)),
        path_(std::move(path)),
        durable_(durable) {}

  ~LocalArtifactWriter() override { Abort(); }

  Status Append(std::string_view chunk) override {
    if (done_) return FailedPrecondition("writer for '" + path_ + "' is closed");
    while (!chunk.empty()) {
      ssize_t n = ::write(file_.get(), chunk.data(), chunk.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "cannot write", path_);
      }
      chunk.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (done_) return FailedPrecondition("writer for '" + path_ + "' is closed");
    Status status = Publish();
    if (!status.ok()) Abort();
    done_ = true;
    return status;
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    file_.Reset();
    ::unlinkat(staging_.get(), temp_name_.c_str(), 0);
  }

 private:
  Status Publish() {
    if (durable_ && ::fdatasync(file_.get()) != 0) return ErrnoStatus(errno, "cannot sync", path_);
    if (file_.Close() != 0) return ErrnoStatus(errno, "cannot write", path_);
    ASSIGN_OR_RETURN(UniqueFd dir, OpenDirChain(root_.get(), segments_, segments_.size() - 1,
                                                /*create=*/true, path_));
    const std::string& name = segments_.back();
    if (::renameat(staging_.get(), temp_name_.c_str(), dir.get(), name.c_str()) != 0) {
      int err = errno;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
        return InvalidArgument("artifact path '" + path_ + "' is a directory");
      }
      if (err == ENOENT) {
        return Unavailable("artifact '" + path_ + "' was deleted while it was being written");
      }
      return ErrnoStatus(err, "cannot commit", path_);
    }
    // Makes the new directory entry itself durable.
    if (durable_ && ::fsync(dir.get()) != 0) return ErrnoStatus(errno, "cannot sync", path_);
    return Status::Ok();
  }

  UniqueFd root_;
  UniqueFd staging_;
  UniqueFd file_;
  std::string temp_name_;
  std::vector<std::string> segments_;
  std::string path_;
  bool durable_;
  bool done_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<LocalArtifactStore>> LocalArtifactStore::Open(
    const std::filesystem::path& root, LocalArtifactStoreOptions options) {
  if (root.empty()) return InvalidArgument("artifact root directory is empty");
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(root, ec);
  if (ec) return InvalidArgument("bad artifact root '" + root.string() + "': " + ec.message());
  std::filesystem::create_directories(absolute, ec);
  if (ec) {
    return Unavailable("cannot create artifact root '" + absolute.string() + "': " + ec.message());
  }
  int fd = ::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Unavailable("cannot open artifact root '" + absolute.string() +
                       "': " + std::strerror(errno));
  }
  UniqueFd root_fd(fd);
  SweepStaging(root_fd.get());
  ASSIGN_OR_RETURN(StagingFolder staging, CreateStagingFolder(root_fd.get()));
  return std::unique_ptr<LocalArtifactStore>(
      new LocalArtifactStore(absolute.lexically_normal(), root_fd.Release(), options,
                             staging.fd.Release(), std::move(staging.name)));
}

LocalArtifactStore::LocalArtifactStore(std::filesystem::path root, int root_fd,
                                       LocalArtifactStoreOptions options, int staging_fd,
                                       std::string staging_name)
    : root_(std::move(root)),
      root_fd_(root_fd),
      options_(options),
      staging_fd_(staging_fd),
      staging_name_(std::move(staging_name)) {}

LocalArtifactStore::~LocalArtifactStore() {
  // The folder is empty unless a writer outlives the store; then it stays, locked, until that
  // writer is done, and a later Open sweeps it.
  int staging = ::openat(root_fd_, std::string(kStagingDir).c_str(), kDirFlags);
  if (staging >= 0) {
    if (IsStillNamed(staging_fd_, staging, staging_name_)) {
      ::unlinkat(staging, staging_name_.c_str(), AT_REMOVEDIR);
    }
    ::close(staging);
  }
  ::close(staging_fd_);
  ::close(root_fd_);
}

StatusOr<int> LocalArtifactStore::StagingForWriter(bool replace_if_gone) {
  std::lock_guard lock(staging_mu_);
  if (replace_if_gone) {
    int staging = ::openat(root_fd_, std::string(kStagingDir).c_str(), kDirFlags);
    bool gone = staging < 0 || !IsStillNamed(staging_fd_, staging, staging_name_);
    if (staging >= 0) ::close(staging);
    if (gone) {
      ASSIGN_OR_RETURN(StagingFolder replacement, CreateStagingFolder(root_fd_));
      ::close(staging_fd_);
      staging_fd_ = replacement.fd.Release();
      staging_name_ = std::move(replacement.name);
    }
  }
  int fd = ::fcntl(staging_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("cannot stage an upload: ") + std::strerror(errno));
  return fd;
}

StatusOr<std::unique_ptr<ArtifactWriter>> LocalArtifactStore::OpenWriter(std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(path));
  if (segments.empty()) return InvalidArgument("cannot write to the artifact root");
  // Reject collisions with what exists now, before the caller sends any bytes. Commit checks
  // again, since the tree may change meanwhile.
  auto parent = OpenDirChain(root_fd_, segments, segments.size() - 1, /*create=*/false, path);
  if (parent.ok()) {
    struct stat st {};
    if (::fstatat(parent->get(), segments.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISREG(st.st_mode)) {
      return InvalidArgument("artifact path '" + std::string(path) +
                             "' is a directory or another non-file");
    }
  } else if (parent.status().code() != StatusCode::kNotFound) {
    return parent.status();
  }

  UniqueFd staging;
  std::string temp_name;
  int fd = -1;
  // A second round only when the staging folder was removed behind the store's back.
  for (int round = 0; round < 2 && fd < 0; ++round) {
    ASSIGN_OR_RETURN(int staging_fd, StagingForWriter(/*replace_if_gone=*/round > 0));
    staging = UniqueFd(staging_fd);
    for (int attempt = 0; attempt < 5 && fd < 0; ++attempt) {
      temp_name = IdGenerator::Default().Hex32();
      fd =
          ::openat(staging.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0 && errno != ENOENT) break;
  }
  if (fd < 0) return ErrnoStatus(errno, "cannot create", path);
  UniqueFd file(fd);
  int root_dup = ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0);
  if (root_dup < 0) {
    Status status = ErrnoStatus(errno, "cannot create", path);
    ::unlinkat(staging.get(), temp_name.c_str(), 0);
    return status;
  }
  return std::unique_ptr<ArtifactWriter>(std::make_unique<LocalArtifactWriter>(
      UniqueFd(root_dup), std::move(staging), std::move(file), std::move(temp_name),
      std::move(segments), std::string(path), options_.durable));
}

StatusOr<std::unique_ptr<ArtifactReader>> LocalArtifactStore::OpenReader(std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(path));
  Status missing = NotFound("artifact '" + std::string(path) + "' does not exist");
  if (segments.empty()) return missing;
  auto dir = OpenDirChain(root_fd_, segments, segments.size() - 1, /*create=*/false, path);
  if (!dir.ok()) {
    if (dir.status().code() == StatusCode::kInvalidArgument) return missing;
    return dir.status();
  }
  // O_NONBLOCK keeps a planted FIFO from blocking the open; it is rejected just below.
  int fd =
      ::openat(dir->get(), segments.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return missing;
    return ErrnoStatus(errno, "cannot open", path);
  }
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return ErrnoStatus(errno, "cannot open", path);
  if (!S_ISREG(st.st_mode)) return missing;
  int flags = ::fcntl(file.get(), F_GETFL);
  if (flags < 0 || ::fcntl(file.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "cannot open", path);
  }
  return std::unique_ptr<ArtifactReader>(std::make_unique<LocalArtifactReader>(
      std::move(file), static_cast<uint64_t>(st.st_size), std::string(path)));
}

StatusOr<std::vector<FileInfo>> LocalArtifactStore::List(std::string_view dir_path) {
  ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(dir_path));
  auto dir = OpenDirChain(root_fd_, segments, segments.size(), /*create=*/false, dir_path);
  if (!dir.ok()) {
    StatusCode code = dir.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument) {
      return std::vector<FileInfo>{};
    }
    return dir.status();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(dir->get(), dir_path));
  std::vector<FileInfo> out;
  out.reserve(names.size());
  for (std::string& name : names) {
    if (IsTempName(name)) continue;
    struct stat st {};
    if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile
      return ErrnoStatus(errno, "cannot list", dir_path);
    }
    FileInfo info;
    if (S_ISDIR(st.st_mode)) {
      info.is_dir = true;
    } else if (S_ISREG(st.st_mode)) {
      info.file_size = static_cast<int64_t>(st.st_size);
    } else {
      continue;  // links and special files are not artifacts
    }
    info.path = std::move(name);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

Status LocalArtifactStore::Delete(std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<std::string> segments, Segments(path));
  if (segments.empty()) {
    // Empties the root but leaves the staging directory to in-flight writers.
    ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(root_fd_, path));
    for (const std::string& name : names) {
      if (!IsTempName(name)) RETURN_IF_ERROR(RemoveEntry(root_fd_, name, path));
    }
    return Status::Ok();
  }
  auto dir = OpenDirChain(root_fd_, segments, segments.size() - 1, /*create=*/false, path);
  if (!dir.ok()) {
    StatusCode code = dir.status().code();
    // A missing parent, or a parent that is a file: nothing is stored at `path`.
    if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument) {
      return Status::Ok();
    }
    return dir.status();
  }
  return RemoveEntry(dir->get(), segments.back(), path);
}

}  // namespace cairn::artifact
