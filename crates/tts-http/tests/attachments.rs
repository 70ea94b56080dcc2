//! Attachments over HTTP with a real file blob store: types decided from the bytes (a lying header does
//! not count), the size limit, safe names, identical files stored once, downloads that browsers save and
//! never run, files of internal notes kept from the requester, and who may remove a file.

mod common;

use common::*;
use serde_json::json;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0";

fn blobs_only(files: Vec<String>) -> Vec<String> {
    files.into_iter().filter(|f| !f.starts_with("tmp")).collect()
}

#[tokio::test]
async fn files_are_typed_by_their_bytes_named_safely_and_downloaded_as_attachments() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let ticket = api.open_ticket(&employee, "Broken screen").await;
    let id = ticket["id"].as_i64().unwrap();
    let files = format!("/tickets/{id}/attachments/");

    let png = api
        .upload(
            &files,
            &employee,
            "../../etc/screen shot.png",
            "application/octet-stream",
            PNG,
        )
        .await
        .expect(201)
        .body;
    assert_eq!(png["content_type"], "image/png", "the type comes from the bytes");
    assert_eq!(png["file_name"], "screen shot.png", "the path is dropped");
    assert_eq!(png["size"], PNG.len());
    let text = api
        .upload(
            &files,
            &employee,
            "Prüfbericht 📎.txt",
            "image/png",
            "not a picture at all\n".as_bytes(),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(text["content_type"], "text/plain", "a lying header is ignored");
    assert_eq!(text["file_name"], "Prüfbericht 📎.txt");

    let refused = api
        .upload(&files, &employee, "setup.png", "image/png", ELF)
        .await
        .expect(415)
        .body;
    assert!(
        refused["fields"]["file"].is_array(),
        "the body names the field: {refused}"
    );
    let empty = api
        .upload(&files, &employee, "empty.txt", "text/plain", b"")
        .await
        .expect(422)
        .body;
    assert!(empty["fields"]["file"].is_array(), "{empty}");

    let listed = api.get(&files, &employee).await.expect(200).body;
    assert_eq!(listed["count"], 2);
    let on_ticket = api.get(&format!("/tickets/{id}/"), &employee).await.expect(200).body;
    assert_eq!(
        on_ticket["attachments"].as_array().map(Vec::len),
        Some(2),
        "the ticket lists its files"
    );

    let (status, headers, bytes) = api
        .download(&format!("{files}{}/", text["id"].as_str().unwrap()), &employee)
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(bytes, b"not a picture at all\n");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Pr%C3%BCfbericht"),
        "{disposition}"
    );
    assert_eq!(headers["content-length"], "21");
    let (status, _, bytes) = api
        .download(&format!("{files}{}/", png["id"].as_str().unwrap()), &employee)
        .await;
    assert_eq!((status.as_u16(), bytes.as_slice()), (200, PNG));
    assert!(blobs_only(api.blob_files()).len() == 2, "{:?}", api.blob_files());
    assert!(
        api.blob_files().iter().all(|f| !f.starts_with("tmp/")),
        "no temp file is left: {:?}",
        api.blob_files()
    );
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_and_leave_nothing() {
    let api = Api::with(|c| {
        c.rate_limits = tts_http::RateLimits::disabled();
        c.max_upload_bytes = 100_000;
    })
    .await;
    let employee = api.login(EMPLOYEE).await;
    let id = api.open_ticket(&employee, "Big file").await["id"].as_i64().unwrap();
    let files = format!("/tickets/{id}/attachments/");
    let just_fits = vec![b'a'; 100_000];
    api.upload(&files, &employee, "fits.txt", "text/plain", &just_fits)
        .await
        .expect(201);
    let too_big = vec![b'b'; 100_001];
    let r = api
        .upload(&files, &employee, "big.txt", "text/plain", &too_big)
        .await
        .expect(413)
        .body;
    assert!(r["fields"]["file"].is_array(), "{r}");
    let huge = vec![b'c'; 1_000_000];
    api.upload(&files, &employee, "huge.txt", "text/plain", &huge)
        .await
        .expect(413);
    let sneaky = [b"plain text at first ".repeat(500), vec![0u8; 10]].concat();
    api.upload(&files, &employee, "sneaky.txt", "text/plain", &sneaky)
        .await
        .expect(415);
    assert_eq!(api.get(&files, &employee).await.expect(200).body["count"], 1);
    assert_eq!(
        api.blob_files().len(),
        1,
        "only the file that fits: {:?}",
        api.blob_files()
    );
}

#[tokio::test]
async fn identical_files_are_stored_once_and_removal_is_for_the_uploader_or_an_admin() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let first = api.open_ticket(&employee, "First").await["id"].as_i64().unwrap();
    let second = api.open_ticket(&employee, "Second").await["id"].as_i64().unwrap();
    let a = api
        .upload(
            &format!("/tickets/{first}/attachments/"),
            &employee,
            "a.pdf",
            "application/pdf",
            PDF,
        )
        .await
        .expect(201)
        .body;
    let b = api
        .upload(
            &format!("/tickets/{second}/attachments/"),
            &admin,
            "b.pdf",
            "application/pdf",
            PDF,
        )
        .await
        .expect(201)
        .body;
    assert_eq!(a["sha256"], b["sha256"]);
    assert_eq!(blobs_only(api.blob_files()).len(), 1, "identical bytes are stored once");

    let b_path = format!("/tickets/{second}/attachments/{}/", b["id"].as_str().unwrap());
    let r = api
        .call(axum::http::Method::DELETE, &b_path, Some(&employee), None)
        .await;
    assert_eq!(r.status.as_u16(), 403, "only the uploader or an admin: {}", r.body);
    let r = api.call(axum::http::Method::DELETE, &b_path, Some(&admin), None).await;
    assert_eq!(r.status.as_u16(), 204);
    let a_path = format!("/tickets/{first}/attachments/{}/", a["id"].as_str().unwrap());
    let (status, _, bytes) = api.download(&a_path, &employee).await;
    assert_eq!(
        (status.as_u16(), bytes.as_slice()),
        (200, PDF),
        "the other ticket's file keeps its bytes"
    );
    let (status, _, _) = api.download(&b_path, &admin).await;
    assert_eq!(status.as_u16(), 404);
    let history = api
        .get(&format!("/tickets/{second}/history/"), &employee)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = history["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"attachment.added") && actions.contains(&"attachment.removed"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn files_of_internal_notes_are_for_staff_only() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let id = api.open_ticket(&employee, "Private file").await["id"].as_i64().unwrap();
    let note = api
        .post(
            &format!("/tickets/{id}/comments/"),
            &admin,
            json!({"content": "log attached", "is_internal": true}),
        )
        .await
        .expect(201)
        .body;
    let note_id = note["id"].as_str().unwrap();
    let file = api
        .upload(
            &format!("/tickets/{id}/attachments/?comment_id={note_id}"),
            &admin,
            "secret-log.txt",
            "text/plain",
            b"secret log lines\n",
        )
        .await
        .expect(201)
        .body;
    assert_eq!(file["is_internal"], true);
    assert_eq!(file["comment_id"], note["id"]);
    // The requester cannot attach to the note, nor see, list or download its file.
    let r = api
        .upload(
            &format!("/tickets/{id}/attachments/?comment_id={note_id}"),
            &employee,
            "x.txt",
            "text/plain",
            b"x",
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        422,
        "the note is not there for the requester: {}",
        r.body
    );
    for route in [
        format!("/tickets/{id}/attachments/"),
        format!("/tickets/{id}/"),
        format!("/tickets/{id}/history/"),
    ] {
        let seen = api.get(&route, &employee).await.expect(200).body.to_string();
        assert!(
            !seen.contains("secret-log"),
            "the requester saw the file at {route}: {seen}"
        );
    }
    let (status, _, _) = api
        .download(
            &format!("/tickets/{id}/attachments/{}/", file["id"].as_str().unwrap()),
            &employee,
        )
        .await;
    assert_eq!(status.as_u16(), 404);
    let staff = api
        .get(&format!("/tickets/{id}/attachments/"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(staff["count"], 1);
}

#[tokio::test]
async fn form_fields_beside_the_file_are_bounded() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let id = api.open_ticket(&employee, "Odd forms").await["id"].as_i64().unwrap();
    let send = async |parts: &[(&str, String)]| {
        let boundary = "odd-form-boundary";
        let mut body = String::new();
        for (name, value) in parts {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(format!("/tickets/{id}/attachments/"))
            .header("authorization", format!("Bearer {employee}"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(axum::body::Body::from(body))
            .unwrap();
        api.send(req).await
    };
    let long = send(&[("comment_id", "x".repeat(10_000))]).await;
    assert_eq!(long.status.as_u16(), 422, "{}", long.body);
    assert!(long.body["fields"]["comment_id"].is_array());
    let twice = send(&[("comment_id", "a".into()), ("comment_id", "b".into())]).await;
    assert_eq!(twice.status.as_u16(), 422, "{}", twice.body);
    let none = send(&[]).await;
    assert_eq!(none.status.as_u16(), 422, "no file: {}", none.body);
    assert!(none.body["fields"]["file"].is_array(), "{}", none.body);
    let unknown = send(&[("html", "<script>".into())]).await;
    assert_eq!(unknown.status.as_u16(), 422);
    assert!(unknown.body["fields"]["html"].is_array(), "{}", unknown.body);
}

#[tokio::test]
async fn a_field_after_the_file_is_refused_and_nothing_is_kept() {
    let api = Api::new().await;
    let employee = api.login(common::EMPLOYEE).await;
    let t = api.open_ticket(&employee, "trailing field").await;
    let id = t["id"].clone();
    let boundary = "tts-trailing-7a1f";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"comment_id\"\r\n\r\nnot-an-id\r\n--{boundary}--\r\n"
    );
    let req = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(format!("/tickets/{id}/attachments/"))
        .header("authorization", format!("Bearer {employee}"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .expect("request");
    let reply = api.send(req).await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert!(reply.body["fields"]["comment_id"].is_array(), "{}", reply.body);
    let listed = api.get(&format!("/tickets/{id}/attachments/"), &employee).await;
    assert_eq!(listed.body["count"], 0, "nothing was recorded");
    assert!(
        api.blob_files().is_empty(),
        "no bytes were kept: {:?}",
        api.blob_files()
    );
}
