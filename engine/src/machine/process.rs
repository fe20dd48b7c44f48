//! The executor's process: forking it, its connection, and how it ended. This file holds the `unsafe` of
//! `fork`, `waitpid`, `kill` and the socket's raw reads and writes.
//!
//! The executor is a child forked from the engine's process, so every address JIT code embeds (the
//! runtime's hooks and builtins, the C library, the code arena, the shared cells) means the same in both.
//! The child keeps nothing of its parent's but its memory: standard input becomes `/dev/null` (it never
//! reads the terminal), every descriptor but the connection and standard output and error is closed, it
//! gets its own process group (a terminal's Ctrl-C reaches only the controller), and it is killed when its
//! parent goes (`PR_SET_PDEATHSIG`, and the connection's end-of-file).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// The descriptor the connection has in the child.
const CHILD_FD: RawFd = 3;

/// Which side of a fork this is.
pub(crate) enum Forked {
    /// The controller, with its child.
    Parent(ChildProcess),
    /// The child, with its end of the connection.
    Child(Connection),
}

/// A forked child: its process id and the controller's end of the connection.
pub(crate) struct ChildProcess {
    /// Its process id.
    pub(crate) pid: i32,
    /// The controller's end of the connection.
    pub(crate) connection: Connection,
}

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// By a signal.
    Signal(i32),
    /// By `exit` with a status.
    Exit(i32),
}

/// One end of a stream socket between controller and executor.
pub(crate) struct Connection {
    fd: OwnedFd,
}

/// What a read with a deadline got.
pub(crate) enum Received {
    /// Some bytes.
    Bytes(usize),
    /// Nothing before the deadline.
    Timeout,
    /// The other side closed the connection.
    Closed,
}

/// Forks the executor. In the child, the connection is descriptor 3 and nothing else of the parent's is
/// open but standard output and error.
///
/// The caller must be ready for the child to run on in a copy of this process with only the calling
/// thread: it must touch no lock another thread may hold (the executor uses only its connection, the
/// allocator, which glibc keeps usable across `fork`, and JIT code).
pub(crate) fn fork_executor() -> io::Result<Forked> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `socketpair` writes two new descriptors into `fds`, which has room for two.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: `getpid` has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: see this function's contract: the child only runs code that is sound after a fork.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(ours);
            Ok(Forked::Child(become_executor(theirs, parent)))
        }
        pid => Ok(Forked::Parent(ChildProcess { pid, connection: Connection { fd: ours } })),
    }
}

/// In the child: detaches from the terminal and the parent's descriptors, and returns the connection.
fn become_executor(connection: OwnedFd, parent: i32) -> Connection {
    // SAFETY: plain system calls on this process and on descriptors it owns; `_exit` ends the child without
    // running the parent's exit handlers if the parent is gone already.
    unsafe {
        libc::setpgid(0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(1);
        }
        if libc::dup2(connection.as_raw_fd(), CHILD_FD) < 0 {
            libc::_exit(1);
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null >= 0 {
            libc::dup2(null, 0);
        }
        // Everything from 4 up: the parent's sockets, files and the connection's original number.
        libc::syscall(libc::SYS_close_range, CHILD_FD + 1, u32::MAX, 0);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGQUIT, libc::SIGHUP] {
            libc::signal(signal, libc::SIG_DFL);
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        // A crash is expected and reported; a core dump of a copy of the session would only cost time.
        let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
    }
    std::mem::forget(connection);
    // SAFETY: descriptor 3 was made a copy of the connection just above, and nothing else owns it.
    Connection { fd: unsafe { OwnedFd::from_raw_fd(CHILD_FD) } }
}

impl Connection {
    /// Its raw descriptor (for a signal handler's last write).
    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Writes all of `bytes`.
    pub(crate) fn send(&self, bytes: &[u8]) -> io::Result<()> {
        write_all(self.raw(), bytes)
    }

    /// Reads what has arrived into `buffer`, waiting at most `timeout` (forever: `None`).
    ///
    /// It first spins for `spin`: an answer usually comes that fast, and a process that blocks at once
    /// pays the machine's wake-up latency (tens of microseconds, more than the work).
    pub(crate) fn receive(&self, buffer: &mut [u8], timeout: Option<Duration>, spin: Duration) -> io::Result<Received> {
        let spin_until = std::time::Instant::now() + spin;
        while std::time::Instant::now() < spin_until {
            // SAFETY: `buffer` is valid for writes of its length; `MSG_DONTWAIT` makes this one read
            // return at once.
            let n = unsafe { libc::recv(self.raw(), buffer.as_mut_ptr().cast(), buffer.len(), libc::MSG_DONTWAIT) };
            match n {
                0 => return Ok(Received::Closed),
                n if n > 0 => return Ok(Received::Bytes(n as usize)),
                _ => match io::Error::last_os_error().kind() {
                    // Yield rather than spin: the other side may have been woken on this very CPU, and
                    // a spin would keep it from running until the spin ends.
                    // SAFETY: `sched_yield` has no preconditions.
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => unsafe {
                        libc::sched_yield();
                    },
                    io::ErrorKind::ConnectionReset => return Ok(Received::Closed),
                    _ => break,
                },
            }
        }
        let mut poll = libc::pollfd { fd: self.raw(), events: libc::POLLIN, revents: 0 };
        let millis = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        loop {
            // SAFETY: `poll` points at one valid `pollfd`.
            let ready = unsafe { libc::poll(&mut poll, 1, millis) };
            if ready < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            if ready == 0 {
                return Ok(Received::Timeout);
            }
            break;
        }
        loop {
            // SAFETY: `buffer` is valid for writes of its length.
            let n = unsafe { libc::read(self.raw(), buffer.as_mut_ptr().cast(), buffer.len()) };
            match n {
                0 => return Ok(Received::Closed),
                n if n > 0 => return Ok(Received::Bytes(n as usize)),
                _ => {
                    let error = io::Error::last_os_error();
                    match error.kind() {
                        io::ErrorKind::Interrupted => continue,
                        io::ErrorKind::ConnectionReset => return Ok(Received::Closed),
                        _ => return Err(error),
                    }
                }
            }
        }
    }
}

/// Writes `bytes` to standard error with `write(2)` (no lock), as much as it takes.
pub(crate) fn write_stderr(bytes: &[u8]) {
    // SAFETY: `bytes` is valid for reads of its length.
    let _ = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

/// Writes all of `bytes` to `fd`.
fn write_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length; `MSG_NOSIGNAL` turns a closed peer into EPIPE.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

impl ChildProcess {
    /// Sends `signal` to the child.
    pub(crate) fn signal(&self, signal: i32) {
        // SAFETY: `kill` on our own child, which is not reaped until `wait` (so the id is not reused).
        unsafe { libc::kill(self.pid, signal) };
    }

    /// How the child ended, waiting at most `patience` for it (then killing it).
    pub(crate) fn reap(&self, patience: Duration) -> Ended {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let mut status = 0;
            // SAFETY: `waitpid` on our own child, writing its status into `status`.
            let pid = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if pid == self.pid {
                return if libc::WIFSIGNALED(status) {
                    Ended::Signal(libc::WTERMSIG(status))
                } else {
                    Ended::Exit(libc::WEXITSTATUS(status))
                };
            }
            if pid < 0 {
                // Already reaped, or not ours any more: nothing more can be learnt.
                return Ended::Signal(libc::SIGKILL);
            }
            if std::time::Instant::now() >= deadline {
                self.signal(libc::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Ends this process at once, without running exit handlers (the executor's way out: it shares nothing
/// its parent's handlers could clean up).
pub(crate) fn exit_now(status: i32) -> ! {
    // SAFETY: `_exit` has no preconditions.
    unsafe { libc::_exit(status) }
}
