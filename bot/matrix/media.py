"""Images and files, both ways: a media event read at the edge, and a media relayed by re-uploading.

In:  an m.image / m.file / m.video / m.audio event (encrypted or not) becomes an `Incoming` whose
     text is the file name and whose `media` keeps the mxc address and, from an encrypted room,
     the keys of the `file` content key. Nothing else past the edge sees a nio media event.
Out: the sender downloads the file (decrypting it with those keys), uploads it again, encrypted
     when the target room is (nio's upload with encrypt=True, then the `file` content key), and
     sends it with the relayed line as its caption (`body` + `filename`, Matrix 1.10). Re-uploading
     is needed: an encrypted file's keys belong to the room it was sent in.
"""
from __future__ import annotations

import io
from typing import Any

from nio import AsyncClient, MemoryDownloadResponse, RoomEncryptedMedia, RoomMessageMedia, UploadResponse
from nio.crypto.attachments import decrypt_attachment

from ..messages import Incoming, Media
from .events import event_time, replied_event


def media_incoming(event, *, room_id: str, own_user: str, since, sender_name: str | None) -> Incoming | None:
    """The Incoming of a media event, or None for anything else (or the bot's own, or history)."""
    if not isinstance(event, (RoomMessageMedia, RoomEncryptedMedia)):
        return None
    if event.sender == own_user or event_time(event) < since:
        return None
    content = event.source.get("content", {})
    file = content.get("file") if isinstance(content.get("file"), dict) else None
    url = (file or {}).get("url") or content.get("url")
    if not isinstance(url, str):
        return None
    info = content.get("info") or {}
    name = str(content.get("filename") or content.get("body") or "fichier")
    media = Media(msgtype=str(content.get("msgtype", "m.file")), name=name, url=url,
                  mimetype=info.get("mimetype"), size=info.get("size"), file=file)
    return Incoming(sender=event.sender, room=room_id, text=name, event_id=event.event_id, time=event_time(event),
                    reply_to=replied_event(content), sender_name=sender_name, media=media)


async def fetch(client: AsyncClient, media: Media) -> bytes | Any:
    """The file's bytes, decrypted; the nio error response when the download failed."""
    response = await client.download(mxc=media.url)
    if not isinstance(response, MemoryDownloadResponse):
        return response
    if media.file is None:
        return response.body
    keys = media.file
    return decrypt_attachment(response.body, keys["key"]["k"], keys["hashes"]["sha256"], keys["iv"])


async def upload(client: AsyncClient, media: Media, data: bytes, *, encrypt: bool) -> tuple[Any, dict | None]:
    """Upload `data` again (encrypted for an encrypted room): (nio response, the `file` content key)."""
    response, keys = await client.upload(io.BytesIO(data), content_type=media.mimetype or "application/octet-stream",
                                         filename=media.name, encrypt=encrypt, filesize=len(data))
    if not isinstance(response, UploadResponse) or not encrypt:
        return response, None
    return response, {**(keys or {}), "url": response.content_uri}


def media_content(media: Media, caption: str, *, url: str, file: dict | None, size: int) -> dict[str, Any]:
    """An m.image / m.file content with `caption` as its body and the file name apart."""
    content: dict[str, Any] = {"msgtype": media.msgtype, "body": caption, "filename": media.name,
                               "info": {"mimetype": media.mimetype or "application/octet-stream", "size": size},
                               "m.mentions": {}}
    if file is not None:
        content["file"] = file
    else:
        content["url"] = url
    return content
