//! Where format detection reads an attachment's bytes from (issue 17,
//! "Streaming"): bytes in memory, or a file an upload was spooled to as
//! it arrived. Detection reads through [`ContentSource::read_at`] in
//! bounded pieces — a ZIP's directory from its end, a compound file's
//! sectors, text in 64 KiB windows — so judging a 10 MiB upload never
//! holds 10 MiB.

use std::cell::RefCell;
use std::io::{self, Read, Seek, SeekFrom};

/// Bytes read at offsets: an attachment's content as detection sees it.
pub trait ContentSource {
    /// The content's length, bytes.
    fn size(&self) -> u64;

    /// Reads up to `buf.len()` bytes starting `offset` bytes in; 0 at or
    /// past the end.
    ///
    /// # Errors
    ///
    /// The underlying read's error (a file that can no longer be read).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl ContentSource for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(rest) = self.get(start..) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// A file read at offsets (positional reads: no shared cursor), its size
/// taken when opened.
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    size: u64,
}

impl FileSource {
    /// Opens `path` for reading.
    ///
    /// # Errors
    ///
    /// The open's or the `stat`'s error.
    pub fn open(path: &std::path::Path) -> io::Result<FileSource> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        Ok(FileSource { file, size })
    }
}

impl ContentSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
    }
}

/// The window text scanning reads at a time.
pub(super) const WINDOW: usize = 64 * 1024;

/// A source as the detectors read it. A read error is kept: detection
/// reports it instead of calling a file it could not read unsupported.
pub(super) struct Reader<'a> {
    source: &'a dyn ContentSource,
    failure: RefCell<Option<io::Error>>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(source: &'a dyn ContentSource) -> Reader<'a> {
        Reader {
            source,
            failure: RefCell::new(None),
        }
    }

    pub(super) fn size(&self) -> u64 {
        self.source.size()
    }

    /// The first read error, if any read failed.
    pub(super) fn take_failure(&self) -> Option<io::Error> {
        self.failure.borrow_mut().take()
    }

    /// Reads at `offset`, keeping a failure for [`Reader::take_failure`].
    pub(super) fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.source.read_at(offset, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kind = e.kind();
                    let mut failure = self.failure.borrow_mut();
                    if failure.is_none() {
                        *failure = Some(e);
                    }
                    return Err(io::Error::from(kind));
                }
                Ok(n) => return Ok(n),
            }
        }
    }

    /// Up to `buf.len()` bytes at `offset`, fewer only at the end.
    pub(super) fn read_full_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let n = self.read_at(offset + filled as u64, &mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(filled)
    }

    /// The content from `offset` on as a `Read + Seek` (the `cfb` crate,
    /// quick-xml).
    pub(super) fn stream_from(&self, offset: u64) -> Stream<'_, 'a> {
        Stream {
            reader: self,
            position: offset,
        }
    }

    /// Calls `each` with consecutive windows of the content from `offset`
    /// on, until it returns `false` or the content ends.
    pub(super) fn windows(
        &self,
        offset: u64,
        mut each: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        let mut buf = vec![0u8; WINDOW];
        let mut at = offset;
        loop {
            let n = self.read_full_at(at, &mut buf)?;
            if n == 0 || !each(&buf[..n]) {
                return Ok(());
            }
            at += n as u64;
        }
    }
}

impl rawzip::ReaderAt for Reader<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        Reader::read_at(self, offset, buf)
    }
}

/// A [`Reader`] with a position.
pub(super) struct Stream<'r, 'a> {
    reader: &'r Reader<'a>,
    position: u64,
}

impl Read for Stream<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read_at(self.position, buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Stream<'_, '_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let base = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.reader.size().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = base.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;

    impl ContentSource for Failing {
        fn size(&self) -> u64 {
            100
        }

        fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk gone"))
        }
    }

    #[test]
    fn slices_read_at_offsets_and_end_cleanly() {
        let bytes: &[u8] = b"abcdef";
        let mut buf = [0u8; 4];
        assert_eq!(bytes.read_at(4, &mut buf).expect("read"), 2);
        assert_eq!(&buf[..2], b"ef");
        assert_eq!(bytes.read_at(6, &mut buf).expect("read"), 0);
        assert_eq!(bytes.read_at(u64::MAX, &mut buf).expect("read"), 0);
        let reader = Reader::new(&bytes);
        let mut stream = reader.stream_from(1);
        let mut all = Vec::new();
        stream.read_to_end(&mut all).expect("read");
        assert_eq!(all, b"bcdef");
        assert_eq!(stream.seek(SeekFrom::End(-2)).expect("seek"), 4);
        assert!(stream.seek(SeekFrom::Current(-10)).is_err());
    }

    #[test]
    fn a_read_failure_is_kept_for_the_caller() {
        let reader = Reader::new(&Failing);
        assert!(reader.read_full_at(0, &mut [0u8; 8]).is_err());
        assert_eq!(
            reader.take_failure().map(|e| e.to_string()),
            Some("disk gone".to_owned())
        );
    }

    #[test]
    fn files_read_at_offsets() {
        let dir = std::env::temp_dir().join(format!("casia-source-{}", std::process::id()));
        std::fs::write(&dir, b"0123456789").expect("write");
        let file = FileSource::open(&dir).expect("open");
        assert_eq!(file.size(), 10);
        let mut buf = [0u8; 3];
        assert_eq!(file.read_at(7, &mut buf).expect("read"), 3);
        assert_eq!(&buf, b"789");
        let _ = std::fs::remove_file(&dir);
    }
}
