//! A browser without JavaScript for the web UI's tests: one session cookie, forms posted as
//! `application/x-www-form-urlencoded` (or multipart with a file), answers read as text.

use super::{Api, PASSWORD};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A browser without JavaScript: one session cookie, forms as `application/x-www-form-urlencoded`.
pub struct Browser<'a> {
    api: &'a Api,
    /// The session cookie (`name=value`), once signed in.
    pub cookie: Option<String>,
}

/// One answer, its body as text.
pub struct Page {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        self.body[at..at + 64].to_string()
    }
}

impl<'a> Browser<'a> {
    pub fn new(api: &'a Api) -> Self {
        Browser { api, cookie: None }
    }

    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let res = self.api.app.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE).and_then(|c| c.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").to_string();
            self.cookie = pair
                .split_once('=')
                .filter(|(_, v)| !v.is_empty())
                .map(|_| pair.clone());
        }
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8(bytes.to_vec()).expect("utf-8");
        assert!(status.as_u16() < 500, "server error {status}: {body}");
        Page { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = Request::builder().method(Method::GET).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    pub async fn post_from(&mut self, origin: Option<&str>, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "tts.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).expect("request")).await
    }

    /// Posts a multipart form: `fields` first, then `file` named `name` with `bytes`.
    pub async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Page {
        let boundary = "tts-ui-boundary-5e2a";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "tts.test")
            .header(header::ORIGIN, "http://tts.test")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            );
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).expect("request")).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_from(Some("http://tts.test"), path, fields).await
    }

    pub async fn sign_in(api: &'a Api, email: &str) -> Browser<'a> {
        let mut b = Browser::new(api);
        let p = b.post("/ui/signin", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert!(b.cookie.is_some(), "a session cookie");
        b
    }

    /// Files a ticket through the form; its number.
    pub async fn file_ticket(&mut self, subject: &str) -> String {
        let csrf = self.get("/ui/tickets/new").await.csrf();
        let p = self
            .post(
                "/ui/tickets/new",
                &[
                    ("csrf", &csrf),
                    ("subject", subject),
                    ("category", "Technical Support"),
                    ("priority", "high"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let number = p
            .location()
            .trim_start_matches("/ui/tickets/")
            .trim_end_matches('/')
            .to_string();
        assert!(number.starts_with("TKT-"), "{}", p.location());
        number
    }
}

/// The agent of `candidates` whose ticket page offers actions, with that page.
pub async fn holder<'a>(api: &'a Api, number: &str, candidates: &[&str]) -> Option<(Browser<'a>, Page)> {
    for who in candidates {
        let mut b = Browser::sign_in(api, who).await;
        let page = b.get(&format!("/ui/tickets/{number}/")).await;
        if page.body.contains("name=\"action\"") {
            return Some((b, page));
        }
    }
    None
}
