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

/// One end of the byte stream between controller and executor: a socket (a forked executor), or two
/// pipes (a command's standard input and output). Reads never block but in `receive`'s `poll`.
pub(crate) struct Connection {
    read: OwnedFd,
    write: OwnedFd,
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
        pid => Ok(Forked::Parent(ChildProcess { pid, connection: Connection::socket(ours)? })),
    }
}

/// Starts `command` (run by `sh -c`, so quoting works) with the connection on its standard input and
/// output, in a process group of its own; its standard error is ours.
pub(crate) fn spawn_executor(command: &str) -> io::Result<ChildProcess> {
    use std::os::unix::process::CommandExt;
    let mut builder = std::process::Command::new("sh");
    builder
        .arg("-c")
        .arg(["exec ", command].concat())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .process_group(0);
    // SAFETY: the closure runs in the child between `fork` and `exec`, after its standard streams are set
    // up, and makes one async-signal-safe system call: it closes every other descriptor it inherited.
    unsafe {
        builder.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3, u32::MAX, 0);
            Ok(())
        });
    }
    let mut child = builder.spawn()?;
    let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(io::Error::other("the command's standard input or output is missing"));
    };
    let connection = Connection::new(OwnedFd::from(output), OwnedFd::from(input))?;
    // The child is reaped by `ChildProcess::reap` with `waitpid`, not by `std`'s handle.
    Ok(ChildProcess { pid: child.id() as i32, connection })
}

/// In a process started as an executor command: the connection on standard input and output, which
/// become `/dev/null` and a copy of standard error (so C code that reads or prints cannot touch it).
pub(crate) fn adopt_standard_streams() -> io::Result<Connection> {
    // SAFETY: `dup`, `open` and `dup2` on this process's own descriptors 0, 1 and 2.
    let (read, write) = unsafe {
        let (read, write) = (libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3), libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3));
        if read < 0 || write < 0 {
            return Err(io::Error::last_os_error());
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::close(null);
        }
        libc::dup2(2, 1);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        (OwnedFd::from_raw_fd(read), OwnedFd::from_raw_fd(write))
    };
    Connection::new(read, write)
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
    let fd = unsafe { OwnedFd::from_raw_fd(CHILD_FD) };
    Connection::socket(fd).unwrap_or_else(|_| exit_now(1))
}

impl Connection {
    /// A connection reading from `read` and writing to `write`.
    pub(crate) fn new(read: OwnedFd, write: OwnedFd) -> io::Result<Connection> {
        // SAFETY: `fcntl` on a descriptor this connection owns.
        let nonblocking = unsafe {
            let flags = libc::fcntl(read.as_raw_fd(), libc::F_GETFL);
            flags >= 0 && libc::fcntl(read.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
        };
        if !nonblocking {
            return Err(io::Error::last_os_error());
        }
        Ok(Connection { read, write })
    }

    /// A connection over one socket (read and written through two descriptors of it).
    fn socket(fd: OwnedFd) -> io::Result<Connection> {
        let write = fd.try_clone()?;
        Connection::new(fd, write)
    }

    /// The descriptor reads come from.
    fn raw(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Writes all of `bytes`.
    pub(crate) fn send(&self, bytes: &[u8]) -> io::Result<()> {
        write_all(self.write.as_raw_fd(), bytes)
    }

    /// Another handle on the same connection (for a thread that reads while this one writes).
    pub(crate) fn try_clone(&self) -> io::Result<Connection> {
        Ok(Connection { read: self.read.try_clone()?, write: self.write.try_clone()? })
    }

    /// Reads what has arrived into `buffer`, waiting at most `timeout` (forever: `None`).
    ///
    /// It first spins for `spin`: an answer usually comes that fast, and a process that blocks at once
    /// pays the machine's wake-up latency (tens of microseconds, more than the work).
    pub(crate) fn receive(&self, buffer: &mut [u8], timeout: Option<Duration>, spin: Duration) -> io::Result<Received> {
        let spin_until = std::time::Instant::now() + spin;
        while std::time::Instant::now() < spin_until {
            // SAFETY: `buffer` is valid for writes of its length; the descriptor does not block.
            let n = unsafe { libc::read(self.raw(), buffer.as_mut_ptr().cast(), buffer.len()) };
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
            // SAFETY: `buffer` is valid for writes of its length; the descriptor does not block.
            let n = unsafe { libc::read(self.raw(), buffer.as_mut_ptr().cast(), buffer.len()) };
            match n {
                0 => return Ok(Received::Closed),
                n if n > 0 => return Ok(Received::Bytes(n as usize)),
                _ => {
                    let error = io::Error::last_os_error();
                    match error.kind() {
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => continue,
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
        // SAFETY: `bytes` is valid for reads of its length; SIGPIPE is ignored (Rust's runtime does it, and
        // an executor does it first thing), so a closed peer is EPIPE.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
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
