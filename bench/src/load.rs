//! The load generator of figure 1: one keep-alive HTTP/1.1 connection per client, each sending
//! a request prepared once, byte for byte, and reading just enough of the answer to know its
//! status and where it ends.
//!
//! Client, server and database share this machine's cores, so the client's own CPU is taken
//! from the system under test. pgbench, the baseline, is a lean C client (about 30 us of CPU per
//! insert here); a general-purpose HTTP client (reqwest: URL parsing, header maps, a pool and
//! a connection task per request) is several times that. This one costs about what pgbench's
//! does, so the ratio compares the server with PostgreSQL rather than two clients.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bodies of a receipt's answer fit many times over.
const READ_CHUNK: usize = 16 * 1024;

pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// A request's bytes: line, headers and body.
pub fn post_json(path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        // A request is one write; waiting to coalesce it would only add latency.
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(READ_CHUNK),
        })
    }

    /// Send `request` and read its whole answer. Returns the status.
    pub async fn send(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let (head_len, status, body_len) = loop {
            if let Some(parsed) = parse_head(&self.buffer)? {
                break parsed;
            }
            self.fill().await?;
        };
        while self.buffer.len() < head_len + body_len {
            self.fill().await?;
        }
        if self.buffer.len() > head_len + body_len {
            bail!("the server answered more than one response");
        }
        Ok(status)
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let start = self.buffer.len();
        self.buffer.resize(start + READ_CHUNK, 0);
        let n = self.stream.read(&mut self.buffer[start..]).await?;
        self.buffer.truncate(start + n);
        if n == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

/// `(length of the head, status, Content-Length)` once the head is complete.
fn parse_head(buffer: &[u8]) -> anyhow::Result<Option<(usize, u16, usize)>> {
    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buffer[..end]).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .context("no status line")?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("chunked answers are not expected here");
        }
    }
    Ok(Some((
        end + 4,
        status,
        length.context("no Content-Length")?,
    )))
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn a_head_is_parsed_once_complete() {
        let answer = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_head(&answer[..20]).ok().flatten(), None);
        assert_eq!(
            parse_head(answer).ok().flatten(),
            Some((answer.len() - 2, 201, 2))
        );
    }

    #[test]
    fn a_chunked_answer_is_refused() {
        let answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assert!(parse_head(answer).is_err());
    }
}
