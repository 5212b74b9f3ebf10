//! Watching a configuration file for changes (inotify), as the original does: a write, a
//! close after writing, a delete or a move of the file means "reload".

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// An inotify watch on one file. Poll [`ConfWatch::fd`] for readability (it is non-blocking),
/// then call [`ConfWatch::changed`].
pub struct ConfWatch {
    inotify: Inotify,
    path: PathBuf,
    wd: Option<WatchDescriptor>,
}

fn flags() -> AddWatchFlags {
    AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF
}

impl ConfWatch {
    pub fn new(path: &Path) -> std::io::Result<ConfWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let wd = inotify.add_watch(path, flags())?;
        Ok(ConfWatch {
            inotify,
            path: path.to_path_buf(),
            wd: Some(wd),
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    pub fn raw_fd(&self) -> i32 {
        self.inotify.as_fd().as_raw_fd()
    }

    /// Drains pending events; true when the file changed. A replaced file (editors write a
    /// new file and rename it) is watched again under the same path.
    pub fn changed(&mut self) -> bool {
        let mut changed = false;
        let mut rewatch = false;
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for ev in events {
                changed = true;
                if ev.mask.intersects(
                    AddWatchFlags::IN_DELETE_SELF
                        | AddWatchFlags::IN_MOVE_SELF
                        | AddWatchFlags::IN_IGNORED,
                ) {
                    rewatch = true;
                }
            }
        }
        if rewatch {
            if let Some(wd) = self.wd.take() {
                let _ = self.inotify.rm_watch(wd);
            }
            self.wd = self.inotify.add_watch(&self.path, flags()).ok();
        }
        changed
    }
}
