//! A real SMTP server for the tests, just large enough for lettre's client: plain TCP (no
//! STARTTLS, no AUTH), EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT. Every accepted
//! message is kept, with its envelope, for the test to read.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The name this server gives itself in its replies.
const HOSTNAME: &str = "e2e.localhost";

/// One message as the server accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The name the client gave in EHLO or HELO.
    pub client_name: String,
    /// The envelope sender (`MAIL FROM:<…>`), empty for the null sender.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO:<…>`), in order.
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, dot-stuffing undone, lines ending in CRLF.
    pub data: String,
}

type Inbox = Arc<Mutex<Vec<ReceivedMail>>>;

/// A listening SMTP server on `127.0.0.1` and a free port. Stops when dropped.
pub struct SmtpReceiver {
    addr: SocketAddr,
    inbox: Inbox,
    task: JoinHandle<()>,
}

impl SmtpReceiver {
    /// Binds a free port and starts accepting connections on the current tokio runtime.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inbox = Inbox::default();
        let task = tokio::spawn(accept(listener, Arc::clone(&inbox)));
        Ok(Self { addr, inbox, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An `SMTP_URL` for Orderflow: plain SMTP (lettre uses no TLS without a `tls` parameter).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.inbox).clone()
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every open session.
        self.task.abort();
    }
}

fn lock(inbox: &Inbox) -> MutexGuard<'_, Vec<ReceivedMail>> {
    inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn accept(listener: TcpListener, inbox: Inbox) {
    let mut sessions = JoinSet::new();
    loop {
        while sessions.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                let inbox = Arc::clone(&inbox);
                sessions.spawn(async move {
                    // A client that goes away mid-session is no concern of the test's.
                    let _ = session(stream, inbox).await;
                });
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// The envelope of the transaction in progress.
#[derive(Default)]
struct Envelope {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

async fn session(stream: TcpStream, inbox: Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    reply(
        &mut write,
        &format!("220 {HOSTNAME} ESMTP orderflow-e2e ready"),
    )
    .await?;
    let mut client_name = String::new();
    let mut envelope = Envelope::default();
    while let Some(line) = read_line(&mut reader).await? {
        let line = String::from_utf8_lossy(&line).into_owned();
        let (verb, rest) = match line.split_once(' ') {
            Some((verb, rest)) => (verb.to_ascii_uppercase(), rest.trim()),
            None => (line.trim().to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                client_name = rest.to_owned();
                envelope = Envelope::default();
                // Multi-line, and on purpose without STARTTLS or AUTH.
                reply(
                    &mut write,
                    &format!("250-{HOSTNAME} greets {rest}\r\n250-8BITMIME\r\n250 SIZE 10485760"),
                )
                .await?;
            }
            "HELO" => {
                client_name = rest.to_owned();
                envelope = Envelope::default();
                reply(&mut write, &format!("250 {HOSTNAME}")).await?;
            }
            "MAIL" => match path_after(rest, "FROM:") {
                Some(from) => {
                    envelope = Envelope {
                        mail_from: Some(from),
                        rcpt_to: Vec::new(),
                    };
                    reply(&mut write, "250 2.1.0 sender ok").await?;
                }
                None => reply(&mut write, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" => match (&envelope.mail_from, path_after(rest, "TO:")) {
                (None, _) => reply(&mut write, "503 5.5.1 MAIL first").await?,
                (Some(_), None) => reply(&mut write, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                (Some(_), Some(to)) => {
                    envelope.rcpt_to.push(to);
                    reply(&mut write, "250 2.1.5 recipient ok").await?;
                }
            },
            "DATA" => {
                if envelope.rcpt_to.is_empty() {
                    reply(&mut write, "503 5.5.1 RCPT first").await?;
                    continue;
                }
                reply(&mut write, "354 end data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(&mut reader).await? else {
                    return Ok(());
                };
                let envelope = std::mem::take(&mut envelope);
                let queued = {
                    let mut inbox = lock(&inbox);
                    inbox.push(ReceivedMail {
                        client_name: client_name.clone(),
                        mail_from: envelope.mail_from.unwrap_or_default(),
                        rcpt_to: envelope.rcpt_to,
                        data,
                    });
                    inbox.len()
                };
                reply(&mut write, &format!("250 2.0.0 queued as {queued}")).await?;
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut write, "250 2.0.0 reset").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 ok").await?,
            "QUIT" => {
                reply(&mut write, &format!("221 2.0.0 {HOSTNAME} closing")).await?;
                return Ok(());
            }
            _ => reply(&mut write, "502 5.5.2 command not implemented").await?,
        }
    }
    Ok(())
}

async fn reply(write: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.write_all(b"\r\n").await?;
    write.flush().await
}

/// One line without its line ending; None at the end of the stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).await? == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// The message after DATA, up to the line holding a single dot, with dot-stuffing undone;
/// None when the client hangs up first.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    loop {
        let Some(line) = read_line(reader).await? else {
            return Ok(None);
        };
        if line == b"." {
            return Ok(Some(String::from_utf8_lossy(&data).into_owned()));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
}

/// The address of `FROM:<a@b> PARAM=…` or `TO:<a@b>`, given the keyword with its colon.
fn path_after(args: &str, keyword: &str) -> Option<String> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let path = args[keyword.len()..].trim_start();
    match path.strip_prefix('<') {
        Some(inner) => inner.split_once('>').map(|(addr, _)| addr.to_owned()),
        None => path.split_whitespace().next().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        String::from_utf8(read_line(reader).await.unwrap().unwrap()).unwrap()
    }

    #[test]
    fn envelope_paths_are_read_with_or_without_brackets_and_parameters() {
        assert_eq!(
            path_after("FROM:<no-reply@localhost> BODY=8BITMIME", "FROM:"),
            Some("no-reply@localhost".into())
        );
        assert_eq!(
            path_after("to: <a@example.com>", "TO:"),
            Some("a@example.com".into())
        );
        assert_eq!(path_after("FROM:<>", "FROM:"), Some(String::new()));
        assert_eq!(
            path_after("TO:a@example.com", "TO:"),
            Some("a@example.com".into())
        );
        assert_eq!(path_after("<a@example.com>", "TO:"), None);
    }

    #[tokio::test]
    async fn a_conversation_is_answered_and_the_message_kept() {
        let server = SmtpReceiver::start().await.unwrap();
        let stream = TcpStream::connect(server.addr()).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        assert!(answer(&mut reader).await.starts_with("220 "));
        write.write_all(b"EHLO client.test\r\n").await.unwrap();
        let mut ehlo = vec![answer(&mut reader).await];
        while ehlo.last().unwrap().starts_with("250-") {
            ehlo.push(answer(&mut reader).await);
        }
        assert!(ehlo.last().unwrap().starts_with("250 "), "{ehlo:?}");
        assert!(
            !ehlo
                .iter()
                .any(|l| l.contains("STARTTLS") || l.contains("AUTH"))
        );
        for (command, code) in [
            ("MAIL FROM:<from@example.com>\r\n", "250"),
            ("RCPT TO:<to@example.com>\r\n", "250"),
            ("DATA\r\n", "354"),
            ("Subject: hi\r\n\r\n..dotted\r\nplain\r\n.\r\n", "250"),
            ("NOOP\r\n", "250"),
            ("QUIT\r\n", "221"),
        ] {
            write.write_all(command.as_bytes()).await.unwrap();
            let line = answer(&mut reader).await;
            assert!(line.starts_with(code), "{command:?} answered {line:?}");
        }
        assert_eq!(
            server.messages(),
            vec![ReceivedMail {
                client_name: "client.test".into(),
                mail_from: "from@example.com".into(),
                rcpt_to: vec!["to@example.com".into()],
                data: "Subject: hi\r\n\r\n.dotted\r\nplain\r\n".into(),
            }]
        );
    }
}
