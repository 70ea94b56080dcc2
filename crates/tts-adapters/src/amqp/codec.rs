//! Messages on the wire: the event JSON as the body (what the seed's consumers read), the outbox id as
//! `message-id`, the event type as `type`, persistent, and our attempt count in a header.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use tts_core::ids::MessageId;
use tts_core::ports::queue::QueueMessage;

/// The header carrying which delivery of a message the next one is (absent: the first).
pub const ATTEMPT_HEADER: &str = "x-tts-attempt";

/// Body and properties of `message`, to be delivered as attempt `attempt`; `expire_after_ms` sets a
/// per-message TTL (the back-off of a retry).
pub(super) fn encode(message: &QueueMessage, attempt: u32, expire_after_ms: Option<u64>) -> (Vec<u8>, BasicProperties) {
    let body = serde_json::to_vec(&message.payload).unwrap_or_else(|_| b"null".to_vec());
    let mut properties = BasicProperties::default()
        .with_message_id(message.id.0.to_string().into())
        .with_type(message.kind.as_str().into())
        .with_content_type("application/json".into())
        .with_delivery_mode(2);
    if attempt > 1 {
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(i64::from(attempt)));
        properties = properties.with_headers(headers);
    }
    if let Some(ms) = expire_after_ms {
        properties = properties.with_expiration(ms.to_string().into());
    }
    (body, properties)
}

/// The message of a delivery and which delivery of it this is. Never fails: a message another program
/// published (no id, a body that is not JSON) gets a fresh id and its body as a JSON string, and the
/// engine dead-letters it with the reason.
pub(super) fn decode(delivery: &lapin::message::Delivery) -> (QueueMessage, u32) {
    let props = &delivery.properties;
    let id = props
        .message_id()
        .as_ref()
        .and_then(|s| uuid::Uuid::parse_str(s.as_str()).ok())
        .unwrap_or_else(uuid::Uuid::now_v7);
    let payload = serde_json::from_slice(&delivery.data)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&delivery.data).into_owned()));
    let kind = props
        .kind()
        .as_ref()
        .map(|k| k.as_str().to_string())
        .unwrap_or_default();
    let headers = props.headers().as_ref();
    let base = headers.and_then(|h| int(h, ATTEMPT_HEADER)).unwrap_or(1).max(1);
    // Redeliveries after a lost consumer: quorum queues count them, classic queues only flag them.
    let redeliveries = headers
        .and_then(|h| int(h, "x-delivery-count"))
        .unwrap_or(u32::from(delivery.redelivered));
    (
        QueueMessage {
            id: MessageId(id),
            kind,
            payload,
        },
        base.saturating_add(redeliveries),
    )
}

fn int(headers: &FieldTable, key: &str) -> Option<u32> {
    let value = headers.inner().get(key)?;
    let n: i64 = match value {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        _ => return None,
    };
    u32::try_from(n).ok()
}
