#include "core/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cfgactors::detail {

std::optional<std::string> read_private_file(const std::string& path,
                                             std::size_t max_size,
                                             std::string& why,
                                             bool& too_large) {
  too_large = false;
  auto fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::string{"cannot open: "} + std::strerror(errno);
    return std::nullopt;
  }
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } close_at_exit{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return std::nullopt;
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    why = "belongs to uid " + std::to_string(st.st_uid)
          + ", not to this process's user (uid " + std::to_string(::geteuid())
          + ") or root";
    return std::nullopt;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    why = std::string{"group or others may access it (mode "} + mode
          + "); chmod 600 it";
    return std::nullopt;
  }
  // One byte more than the file may hold tells a longer one apart.
  std::string text(max_size + 1, '\0');
  std::size_t size = 0;
  for (ssize_t n; size < text.size()
                  && (n = ::read(fd, text.data() + size, text.size() - size))
                       != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      why = std::string{"cannot read: "} + std::strerror(errno);
      return std::nullopt;
    }
    size += static_cast<std::size_t>(n);
  }
  if (size > max_size) {
    too_large = true;
    why = "holds more than " + std::to_string(max_size) + " bytes";
    return std::nullopt;
  }
  text.resize(size);
  return text;
}

std::optional<std::string> read_private_line(const std::string& path,
                                             std::string& why) {
  bool too_large = false;
  auto text = read_private_file(path, 4096, why, too_large);
  if (!text)
    return std::nullopt;
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r'))
    text->pop_back();
  if (text->find('\n') != std::string::npos) {
    why = "must hold one line";
    return std::nullopt;
  }
  return text;
}

} // namespace cfgactors::detail
