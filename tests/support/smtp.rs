//! A local SMTP sink for delivery tests: speaks enough of RFC 5321 for
//! Alertmanager's email notifier (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT; no STARTTLS, no AUTH offered) and records every message.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed).
    pub data: String,
}

pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    stop: Arc<AtomicBool>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (mails.clone(), stop.clone());
        thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let m = m.clone();
                        thread::spawn(move || {
                            let _ = session(stream, &m);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        SmtpSink { port, mails, stop }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn session(stream: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    write!(out, "220 127.0.0.1 stackctl-test-sink ESMTP\r\n")?;
    let mut mail = Mail::default();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write!(out, "250-127.0.0.1\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            write!(out, "250 ok\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail {
                from: address(&line),
                ..Mail::default()
            };
            write!(out, "250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address(&line));
            write!(out, "250 ok\r\n")?;
        } else if upper.starts_with("DATA") {
            write!(out, "354 end with <CRLF>.<CRLF>\r\n")?;
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l)? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                mail.data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            mails.lock().unwrap().push(std::mem::take(&mut mail));
            write!(out, "250 queued\r\n")?;
        } else if upper.starts_with("RSET") {
            mail = Mail::default();
            write!(out, "250 ok\r\n")?;
        } else if upper.starts_with("QUIT") {
            write!(out, "221 bye\r\n")?;
            return Ok(());
        } else {
            write!(out, "502 not implemented\r\n")?;
        }
    }
}

fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.find('>').unwrap_or(line.len());
    line[start..end].trim().to_string()
}
