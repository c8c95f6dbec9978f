// The browser journey's harness: fangpin's XForm rendered by ODK Web Forms, talking to fangpin's OpenRosa
// server the way Collect does. The page gets the token's server URL in ?server=… (and the form id in
// ?form=…), reads formList, downloads the form and every file of its manifest while online, and fills
// offline: a finished form goes to an outbox in localStorage and is posted to `submission` (multipart,
// xml_submission_file) when the browser is online again ('online' event) or when 发送 is pressed.

import { createApp, h } from 'vue';
import { OdkWebForm, POST_SUBMIT__NEW_INSTANCE, webFormsPlugin } from '@getodk/web-forms';

const OPENROSA = { 'X-OpenRosa-Version': '1.0' };
const LIST_NS = 'http://openrosa.org/xforms/xformsList';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsManifest';
const OUTBOX_KEY = 'fangpin.webforms.outbox';

const params = new URLSearchParams(window.location.search);
const server = (params.get('server') || '').replace(/\/+$/, '');
const formId = params.get('form') || 'fangpin_visit';

const statusLine = document.getElementById('outbox-status');
const networkLine = document.getElementById('network');
const sentList = document.getElementById('sent');

// ---- talking to the OpenRosa server -----------------------------------------------------------------

async function openrosaGet(url) {
  const response = await fetch(url, { headers: OPENROSA, cache: 'no-store' });
  if (!response.ok) {
    throw new Error(`${url.replace(server, '…')}: HTTP ${response.status} ${await messageOf(response)}`);
  }
  return response;
}

function parseXml(text) {
  return new DOMParser().parseFromString(text, 'text/xml');
}

function childText(element, ns, name) {
  return element.getElementsByTagNameNS(ns, name)[0]?.textContent?.trim() ?? '';
}

/** The OpenRosaResponse message of an answer (what Collect shows the user). */
async function messageOf(response) {
  const text = await response.text();
  const message = parseXml(text).getElementsByTagName('message')[0];
  return message?.textContent?.trim() ?? '';
}

/** formList → the form's downloadUrl and manifestUrl; the XForm; every media file of the manifest. */
async function download() {
  const list = parseXml(await (await openrosaGet(`${server}/formList`)).text());
  const entry = [...list.getElementsByTagNameNS(LIST_NS, 'xform')].find(
    (x) => childText(x, LIST_NS, 'formID') === formId,
  );
  if (!entry) throw new Error(`表单 ${formId} 不在 formList 中`);
  const formXml = await (await openrosaGet(childText(entry, LIST_NS, 'downloadUrl'))).text();
  const media = new Map();
  const manifestUrl = childText(entry, LIST_NS, 'manifestUrl');
  if (manifestUrl) {
    const manifest = parseXml(await (await openrosaGet(manifestUrl)).text());
    for (const file of manifest.getElementsByTagNameNS(MANIFEST_NS, 'mediaFile')) {
      const response = await openrosaGet(childText(file, MANIFEST_NS, 'downloadUrl'));
      media.set(childText(file, MANIFEST_NS, 'filename'), {
        type: response.headers.get('Content-Type') || 'application/octet-stream',
        body: await response.blob(),
      });
    }
  }
  return { formXml, media };
}

// ---- the outbox ----------------------------------------------------------------------------------------

function outbox() {
  return JSON.parse(localStorage.getItem(OUTBOX_KEY) || '[]');
}

function saveOutbox(items) {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(items));
  showStatus();
}

function showStatus(extra = '') {
  networkLine.textContent = navigator.onLine ? '在线' : '离线';
  const waiting = outbox();
  const failed = waiting.filter((item) => item.error);
  let text = waiting.length ? `已保存在本机，待发送 ${waiting.length} 份` : '没有待发送的表单';
  if (failed.length) text += `（其中 ${failed.length} 份被拒收：${failed.map((i) => i.error).join('；')}）`;
  statusLine.textContent = extra ? `${extra}；${text}` : text;
  statusLine.className = failed.length ? 'error' : '';
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The finished instance into the outbox: the XML and its attachments (photos), kept across reloads. */
async function keep(payload) {
  const data = payload.data[0];
  const xml = await data.get('xml_submission_file').text();
  const files = [];
  for (const [name, file] of data.entries()) {
    if (name !== 'xml_submission_file') {
      files.push({ name, type: file.type, dataUrl: await readAsDataUrl(file) });
    }
  }
  const instanceId = parseXml(xml).getElementsByTagName('instanceID')[0]?.textContent ?? '';
  saveOutbox([...outbox(), { instanceId, xml, files, savedAt: new Date().toISOString() }]);
}

let sending = false;

/** Post every waiting instance; one the server took (201) leaves the outbox, one it refused stays with
 * the server's message, and a network failure stops the round (the next 'online' event retries). */
async function flush() {
  if (sending || !navigator.onLine) {
    showStatus();
    return;
  }
  sending = true;
  try {
    for (const item of outbox()) {
      const body = new FormData();
      body.append('xml_submission_file', new Blob([item.xml], { type: 'text/xml' }), 'submission.xml');
      for (const file of item.files) {
        body.append(file.name, await (await fetch(file.dataUrl)).blob(), file.name);
      }
      let response;
      try {
        response = await fetch(`${server}/submission`, { method: 'POST', headers: OPENROSA, body });
      } catch {
        showStatus('网络不通，联网后自动发送');
        return;
      }
      const message = await messageOf(response);
      const rest = outbox().filter((other) => other.instanceId !== item.instanceId);
      if (response.status === 201 || response.status === 202) {
        const line = document.createElement('li');
        line.dataset.status = String(response.status);
        line.textContent = `已发送（${response.status}）${item.instanceId}：${message}`;
        sentList.append(line);
        saveOutbox(rest);
      } else {
        saveOutbox([...rest, { ...item, error: `${response.status} ${message}` }]);
      }
    }
    showStatus();
  } finally {
    sending = false;
  }
}

// ---- the page ------------------------------------------------------------------------------------------

async function start() {
  if (!server) {
    statusLine.textContent = '缺少 ?server=（采集服务器地址）';
    return;
  }
  let form;
  try {
    form = await download();
  } catch (error) {
    statusLine.textContent = `下载表单失败：${error.message}`;
    statusLine.className = 'error';
    return;
  }
  // Web Forms asks the host for each jr:// attachment (jr://file-csv/households.csv): answered from the
  // copies downloaded above, so that the form is filled with no network at all
  const fetchFormAttachment = async (url) => {
    const name = decodeURIComponent(url.pathname.split('/').pop());
    const file = form.media.get(name);
    if (!file) return new Response('', { status: 404 });
    return new Response(file.body, { status: 200, headers: { 'Content-Type': file.type } });
  };
  const onSubmit = async (payload, callback) => {
    await keep(payload);
    callback({ next: POST_SUBMIT__NEW_INSTANCE }); // a blank form for the next household
    await flush();
  };
  createApp({
    render: () => h(OdkWebForm, { formXml: form.formXml, fetchFormAttachment, trackDevice: true, onSubmit }),
  })
    .use(webFormsPlugin)
    .mount('#app');
  showStatus();
}

window.addEventListener('online', flush);
window.addEventListener('offline', () => showStatus());
document.getElementById('send-outbox').addEventListener('click', flush);
start();
