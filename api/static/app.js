/* chuchu (出处): the search page. No framework, no build step.
 *
 * Everything that comes from the API is untrusted: it is only ever put into the page with
 * textContent and text nodes, never parsed as HTML, and links from it are kept only when they are
 * http(s). Views: search results (no hash) and a document (#doc=<id>&start=N&end=M).
 */
"use strict";

(() => {
  // ---------------------------------------------------------------- interface text

  const STRINGS = {
    zh: {
      title: "出处 · 有据可查的问答",
      tagline: "每个答案都指回原文中的句子",
      searchHeading: "搜索",
      modeLegend: "模式",
      modeAsk: "提问",
      modeCite: "核对说法",
      queryAsk: "问题",
      queryCite: "要核对的说法",
      placeholderAsk: "例如：U创空间2017年的产值是多少？",
      placeholderCite: "粘贴一句话，查它的出处，例如：到2027年，全区算力规模达到1200PFLOPS。",
      submitAsk: "提问",
      submitCite: "核对",
      topK: "结果数",
      style: "引用格式",
      styleGbt: "GB/T 7714",
      styleApa: "APA",
      stylePlain: "纯文本",
      loading: "正在查找出处…",
      emptyAsk: "请先输入问题。",
      emptyCite: "请先输入要核对的说法。",
      answer: "答案",
      noAnswer: "没有足够接近的原文句子可作为出处；下面是最接近的结果。",
      noHits: "没有找到结果。",
      hitsHeading: "出处句子",
      claim: "说法",
      noSupport: "没有任何来源支持这个说法。",
      closest: "最接近的来源（差异已标出）",
      sources: "来源",
      copy: "复制引用",
      copied: "已复制",
      copyFailed: "无法复制到剪贴板。",
      openDoc: "在原文中查看",
      back: "← 返回结果",
      backSearch: "← 返回搜索",
      docLoading: "正在载入原文…",
      badSpan: "链接中的位置不在这篇文档里，下面显示整篇原文。",
      metaId: "文档",
      metaDate: "日期",
      metaPublisher: "发布单位",
      metaAuthor: "作者",
      metaUrl: "链接",
      metaCitation: "引用",
      metaLocation: "位置",
      line: "第 {0} 行",
      page: "第 {0} 页",
      openFile: "打开原文件（第 {0} 页）",
      openFileWhole: "打开原文件",
      metaFile: "原文件",
      alsoAt: "另见",
      score: "得分",
      diffClaim: "说法",
      diffSource: "原文",
      diffMissing: "原文中没有",
      "kind.number": "数字",
      "kind.date": "日期",
      "kind.name": "名称",
      "verdict.verbatim": "与原文一致",
      "verdict.near-verbatim": "与原文基本一致",
      "verdict.paraphrase": "意思相符",
      "verdict.mismatch": "与原文不符",
      "verdict.unsupported": "找不到出处",
      errorTitle: "出错了：",
      networkError: "无法连接服务器。",
      badResponse: "服务器的回应无法读取。",
      paragraphError: "有的段落无法载入，只显示了句子本身：",
      langButton: "EN",
      langSwitch: "Switch to English",
      footer: "每处高亮都是原文在所引位置上的文字。",
      apiDocs: "API 文档",
    },
    en: {
      title: "chuchu (出处) · answers with sources",
      tagline: "Every answer points back to a sentence of the original",
      searchHeading: "Search",
      modeLegend: "Mode",
      modeAsk: "Ask a question",
      modeCite: "Check a claim",
      queryAsk: "Question",
      queryCite: "Claim to check",
      placeholderAsk: "e.g. U创空间2017年的产值是多少？",
      placeholderCite: "Paste a sentence to find its source",
      submitAsk: "Ask",
      submitCite: "Check",
      topK: "Results",
      style: "Citation style",
      styleGbt: "GB/T 7714",
      styleApa: "APA",
      stylePlain: "Plain",
      loading: "Looking for sources…",
      emptyAsk: "Type a question first.",
      emptyCite: "Type a claim to check first.",
      answer: "Answer",
      noAnswer: "No sentence is close enough to count as a source; these are the closest.",
      noHits: "No results.",
      hitsHeading: "Source sentences",
      claim: "Claim",
      noSupport: "No source supports this claim.",
      closest: "Closest sources (differences marked)",
      sources: "Sources",
      copy: "Copy citation",
      copied: "Copied",
      copyFailed: "Could not copy to the clipboard.",
      openDoc: "Open in document",
      back: "← Back to results",
      backSearch: "← Back to search",
      docLoading: "Loading the document…",
      badSpan: "The position in the link is not inside this document; showing the whole text.",
      metaId: "Document",
      metaDate: "Date",
      metaPublisher: "Publisher",
      metaAuthor: "Author",
      metaUrl: "Link",
      metaCitation: "Citation",
      metaLocation: "Position",
      line: "line {0}",
      page: "p. {0}",
      openFile: "Open the original at p. {0}",
      openFileWhole: "Open the original file",
      metaFile: "Original file",
      alsoAt: "Also at",
      score: "score",
      diffClaim: "claim",
      diffSource: "source",
      diffMissing: "not in the source",
      "kind.number": "Number",
      "kind.date": "Date",
      "kind.name": "Name",
      "verdict.verbatim": "Verbatim",
      "verdict.near-verbatim": "Near-verbatim",
      "verdict.paraphrase": "Paraphrase",
      "verdict.mismatch": "Mismatch",
      "verdict.unsupported": "Unsupported",
      errorTitle: "Error:",
      networkError: "Could not reach the server.",
      badResponse: "The server's reply could not be read.",
      paragraphError: "Some paragraphs could not be loaded; only their sentence is shown:",
      langButton: "中文",
      langSwitch: "切换到中文",
      footer: "Every highlight is the original text at the cited offsets.",
      apiDocs: "API docs",
    },
  };

  const VERDICTS = ["verbatim", "near-verbatim", "paraphrase", "mismatch", "unsupported"];
  const STYLES = ["gbt7714", "apa", "plain"];
  const STORE_LANG = "chuchu.lang";
  const STORE_STYLE = "chuchu.style";
  const COPIED_MS = 2500;
  const DOC_CACHE_SIZE = 8;

  const state = {
    lang: "en",
    last: null, // {mode, query, data, paragraphs}: the results shown, kept while a document is open
    searchSeq: 0, // id of the latest search; older replies are dropped
    docSeq: 0,
    doc: null, // {data, start, end}: the open document
    docs: new Map(), // id -> document, a few recent ones
    resultsScroll: 0,
    fromResults: false, // whether the open document was reached from the results (back = history.back)
  };

  const byId = (id) => document.getElementById(id);

  function t(key, ...args) {
    const table = STRINGS[state.lang] || STRINGS.en;
    const text = key in table ? table[key] : STRINGS.en[key] || key;
    return text.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)]));
  }

  // ---------------------------------------------------------------- small DOM helpers

  /** An element with attributes (null/false ones skipped) and children (strings become text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "hidden") node.hidden = Boolean(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  /** Replace a node's children (null/false ones skipped, strings become text). */
  function fill(node, ...children) {
    node.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  }

  function storeGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  }

  function storeSet(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch {
      /* storage off (private mode): the choice lasts for this page only */
    }
  }

  /** Sorted, merged, non-empty [start, end) ranges. */
  function normalise(ranges) {
    const sorted = ranges
      .filter((r) => Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] < r[1])
      .map((r) => [r[0], r[1]])
      .sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const r of sorted) {
      const top = merged[merged.length - 1];
      if (top && r[0] <= top[1]) top[1] = Math.max(top[1], r[1]);
      else merged.push(r);
    }
    return merged;
  }

  /**
   * `text` (which starts at offset `offset` of some string) with nested highlights.
   * `layers` go from outermost to innermost: {ranges: [[start, end], ...] in the same offsets,
   * make: () => a fresh wrapping element}. A range of an inner layer that crosses an outer
   * highlight's edge is split at it, so the markup always nests.
   */
  function highlighted(text, offset, layers) {
    const frag = document.createDocumentFragment();
    if (!text) return frag;
    if (!layers.length) {
      frag.append(text);
      return frag;
    }
    const [layer, ...inner] = layers;
    const end = offset + text.length;
    let pos = offset;
    for (const [from, to] of normalise(layer.ranges)) {
      const s = Math.max(from, pos);
      const e = Math.min(to, end);
      if (s >= e) continue;
      if (s > pos) frag.append(highlighted(text.slice(pos - offset, s - offset), pos, inner));
      const wrap = layer.make();
      wrap.append(highlighted(text.slice(s - offset, e - offset), s, inner));
      frag.append(wrap);
      pos = e;
    }
    if (pos < end) frag.append(highlighted(text.slice(pos - offset), pos, inner));
    return frag;
  }

  function markMaker(cls, testid) {
    return () => el("mark", { class: cls, "data-testid": testid });
  }

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  /** The path of a document: each segment of the id encoded (ids may hold "/"). */
  function documentPath(id) {
    return "/v1/documents/" + String(id).split("/").map(encodeURIComponent).join("/");
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError("network", t("networkError"), 0);
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = payload && typeof payload.error === "object" && payload.error ? payload.error : {};
      const message = typeof error.message === "string" ? error.message : `${response.status} ${response.statusText}`;
      throw new ApiError(typeof error.code === "string" ? error.code : `http_${response.status}`, message, response.status);
    }
    if (payload === null || typeof payload !== "object") throw new ApiError("bad_response", t("badResponse"), response.status);
    return payload;
  }

  async function fetchDocument(id) {
    if (state.docs.has(id)) return state.docs.get(id);
    const doc = await api("GET", documentPath(id));
    state.docs.set(id, doc);
    if (state.docs.size > DOC_CACHE_SIZE) state.docs.delete(state.docs.keys().next().value);
    return doc;
  }

  /** The document offsets a hit's paragraph view must cover: its paragraph, sentence, match and differences. */
  function paragraphSpan(hit) {
    const ctx = hit.context || {};
    let lo = hit.start;
    let hi = hit.end;
    if (Number.isInteger(ctx.paragraph_start) && Number.isInteger(ctx.paragraph_end)) {
      lo = Math.min(lo, ctx.paragraph_start);
      hi = Math.max(hi, ctx.paragraph_end);
    }
    for (const [s, e] of sourceRanges(hit)) {
      lo = Math.min(lo, s);
      hi = Math.max(hi, e);
    }
    return [lo, hi];
  }

  /**
   * A hit's paragraph: {text, start} (document offset of text[0]); the sentence alone if it
   * cannot be read. `spans` (key -> pending request) fetches a paragraph shared by hits once.
   */
  async function fetchParagraph(hit, spans) {
    const [lo, hi] = paragraphSpan(hit);
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo < hi)) return { text: hit.text, start: hit.start };
    const path = `${documentPath(hit.source)}?start=${lo}&end=${hi}`;
    if (!spans.has(path)) spans.set(path, api("GET", path));
    try {
      const span = await spans.get(path);
      if (typeof span.text !== "string") throw new ApiError("bad_response", t("badResponse"), 200);
      return { text: span.text, start: lo };
    } catch (error) {
      return { text: hit.text, start: hit.start, error };
    }
  }

  // ---------------------------------------------------------------- messages

  function showError(error, prefix) {
    const box = byId("error");
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof ApiError && error.code ? error.code : null;
    fill(
      box,
      el("strong", null, t("errorTitle")),
      " ",
      prefix ? prefix + " " : "",
      message,
      code ? el("code", { class: "error-code" }, code) : null,
    );
    box.hidden = false;
  }

  function clearError() {
    const box = byId("error");
    box.hidden = true;
    box.replaceChildren();
  }

  function setLoading(on) {
    const status = byId("status");
    status.hidden = !on;
    status.replaceChildren(on ? el("span", { class: "spinner", "aria-hidden": "true" }) : "", on ? t("loading") : "");
    byId("submit").disabled = on;
    byId("results").setAttribute("aria-busy", on ? "true" : "false");
    document.body.classList.toggle("busy", on);
  }

  // ---------------------------------------------------------------- pieces of a hit

  function currentMode() {
    const checked = document.querySelector('input[name="mode"]:checked');
    return checked && checked.value === "cite" ? "cite" : "ask";
  }

  function currentStyle() {
    const value = byId("style").value;
    return STYLES.includes(value) ? value : STYLES[0];
  }

  /** The citation of a hit in a style; `source:line` when the server gives none. */
  function citationText(hit, style) {
    const citation = hit.citation;
    if (citation && typeof citation === "object" && typeof citation[style] === "string" && citation[style]) {
      return citation[style];
    }
    if (typeof citation === "string" && citation) return citation;
    return `${hit.source}:${hit.line}`;
  }

  function verdictBadge(verdict, testid) {
    const known = VERDICTS.includes(verdict);
    return el(
      "span",
      { class: `badge verdict-${known ? verdict : "unknown"}`, "data-testid": testid, "data-verdict": String(verdict) },
      known ? t(`verdict.${verdict}`) : String(verdict),
    );
  }

  /** The source-side [start, end) of a claim source's differences. */
  function sourceRanges(hit) {
    return (hit.differences || []).filter((d) => d && d.source).map((d) => [d.source.start, d.source.end]);
  }

  function paragraphView(hit, paragraph) {
    const layers = [{ ranges: [[hit.start, hit.end]], make: markMaker("cited", "cited") }];
    const match = hit.match;
    if (match && (match.start !== hit.start || match.end !== hit.end)) {
      layers.push({ ranges: [[match.start, match.end]], make: markMaker("match", "match") });
    }
    layers.push({ ranges: sourceRanges(hit), make: markMaker("diff", "source-diff") });
    return el("p", { class: "paragraph", lang: "zh" }, highlighted(paragraph.text, paragraph.start, layers));
  }

  function location(hit) {
    const parts = [el("code", { class: "loc", "data-testid": "loc" }, `${hit.source}:${hit.line}`)];
    for (const extra of [hit.date, hit.publisher]) {
      if (extra) parts.push(el("span", { class: "sep", "aria-hidden": "true" }, "·"), el("span", null, String(extra)));
    }
    if (Number.isInteger(hit.page)) {
      parts.push(el("span", { class: "sep", "aria-hidden": "true" }, "·"), el("span", { class: "page", "data-testid": "page" }, t("page", hit.page)));
    }
    if (Array.isArray(hit.heading) && hit.heading.length) {
      parts.push(el("span", { class: "sep", "aria-hidden": "true" }, "·"), el("span", { class: "heading" }, hit.heading.join(" › ")));
    }
    return el("p", { class: "meta" }, ...parts);
  }

  /** A link opening a document's original file (a PDF at `page`), in a new tab. */
  function fileLink(path, page, testid) {
    const href = Number.isInteger(page) ? `${path}#page=${page}` : path;
    const label = Number.isInteger(page) ? t("openFile", page) : t("openFileWhole");
    return el("a", { class: "open-file", href, target: "_blank", rel: "noopener", "data-testid": testid }, label);
  }

  function alsoAt(hit) {
    if (!Array.isArray(hit.also_at) || !hit.also_at.length) return null;
    const places = hit.also_at.map((p) => `${p.source}:${p.line}`).join(", ");
    return el("p", { class: "also" }, `${t("alsoAt")}: `, el("code", null, places));
  }

  function differencesList(hit) {
    const diffs = (hit.differences || []).filter((d) => d && d.claim);
    if (!diffs.length) return null;
    const items = diffs.map((d) =>
      el(
        "li",
        { "data-testid": "difference" },
        el("span", { class: "kind" }, t(`kind.${d.kind}`)),
        " ",
        `${t("diffClaim")} `,
        el("mark", { class: "diff" }, String(d.claim.text)),
        el("span", { class: "arrow", "aria-hidden": "true" }, " → "),
        `${t("diffSource")} `,
        d.source ? el("mark", { class: "diff" }, String(d.source.text)) : el("em", null, t("diffMissing")),
      ),
    );
    return el("ul", { class: "differences" }, ...items);
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return;
      } catch {
        /* fall back to the old way below */
      }
    }
    const area = el("textarea", { readonly: true, class: "offscreen", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let done = false;
    try {
      done = document.execCommand("copy");
    } finally {
      area.remove();
    }
    if (!done) throw new Error(t("copyFailed"));
  }

  function copyControls(hit) {
    const button = el("button", { type: "button", class: "copy", "data-testid": "copy" }, t("copy"));
    const done = el("span", { class: "copied", "data-testid": "copied", role: "status", hidden: true }, t("copied"));
    let timer = 0;
    button.addEventListener("click", async () => {
      try {
        await copyText(citationText(hit, currentStyle()));
      } catch {
        showError(t("copyFailed"));
        return;
      }
      done.hidden = false;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        done.hidden = true;
      }, COPIED_MS);
    });
    return [button, done];
  }

  function documentLink(hit) {
    const hash = `#doc=${encodeURIComponent(hit.source)}&start=${hit.start}&end=${hit.end}`;
    const link = el("a", { class: "open-doc button", href: hash, "data-testid": "open-doc" }, t("openDoc"));
    link.addEventListener("click", () => {
      state.resultsScroll = window.scrollY;
      state.fromResults = true;
    });
    return link;
  }

  function hitCard(hit, paragraph, withVerdict) {
    const head = el(
      "header",
      { class: "hit-head" },
      el("span", { class: "rank", "aria-label": `#${hit.rank}` }, String(hit.rank)),
      el("h3", { class: "hit-title" }, String(hit.title || hit.source)),
      withVerdict ? verdictBadge(hit.verdict, "source-verdict") : null,
    );
    const card = el(
      "article",
      {
        class: "hit",
        id: `hit-${hit.rank}`,
        "data-testid": "hit",
        "data-source": hit.source,
        "data-start": hit.start,
        "data-end": hit.end,
      },
      head,
      location(hit),
      paragraphView(hit, paragraph),
      withVerdict ? differencesList(hit) : null,
      alsoAt(hit),
      el("p", { class: "citation", "data-testid": "citation" }, citationText(hit, currentStyle())),
      el(
        "div",
        { class: "actions" },
        ...copyControls(hit),
        documentLink(hit),
        Number.isInteger(hit.page) ? fileLink(`${documentPath(hit.source)}/file`, hit.page, "open-file") : null,
      ),
    );
    return el("li", null, card);
  }

  // ---------------------------------------------------------------- results

  /** The answer, with its [n] markers as buttons that scroll to hit n. */
  function answerText(answer, count) {
    const frag = document.createDocumentFragment();
    const parts = String(answer).split(/(\[\d+\])/);
    for (const part of parts) {
      const ref = /^\[(\d+)\]$/.exec(part);
      const n = ref ? Number(ref[1]) : 0;
      if (ref && n >= 1 && n <= count) {
        const button = el("button", { type: "button", class: "ref", "aria-label": `${t("sources")} ${n}` }, part);
        button.addEventListener("click", () => {
          const target = byId(`hit-${n}`);
          if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
        });
        frag.append(button);
      } else if (part) {
        frag.append(part);
      }
    }
    return frag;
  }

  function renderAsk(box, result) {
    const data = result.data;
    const hits = Array.isArray(data.hits) ? data.hits : [];
    if (data.no_answer) {
      box.append(el("p", { class: "notice", "data-testid": "no-answer" }, t("noAnswer")));
    } else if (data.answer) {
      box.append(
        el(
          "section",
          { class: "answer", "data-testid": "answer" },
          el("h2", null, t("answer")),
          el("p", { lang: "zh" }, answerText(data.answer, hits.length)),
        ),
      );
    }
    if (!hits.length) {
      box.append(el("p", { class: "notice" }, t("noHits")));
      return;
    }
    box.append(el("h2", { class: "section-title" }, t("hitsHeading")));
    box.append(el("ol", { class: "hits" }, ...hits.map((hit, i) => hitCard(hit, result.paragraphs[i], false))));
  }

  function renderClaim(box, result) {
    const data = result.data;
    const sources = Array.isArray(data.sources) ? data.sources : [];
    const primary = sources.find((s) => s.verdict === data.verdict) || sources[0] || null;
    const claimRanges = primary ? (primary.differences || []).filter((d) => d && d.claim).map((d) => [d.claim.start, d.claim.end]) : [];
    const claim = String(data.claim ?? result.query);
    const panel = el(
      "section",
      { class: "claim", "data-testid": "claim" },
      el("header", { class: "claim-head" }, el("h2", null, t("claim")), verdictBadge(data.verdict, "verdict")),
      el(
        "p",
        { class: "claim-text", lang: "zh", "data-testid": "claim-text" },
        highlighted(claim, 0, [{ ranges: claimRanges, make: markMaker("diff", "claim-diff") }]),
      ),
      data.supported ? null : el("p", { class: "no-support", "data-testid": "no-support", role: "note" }, t("noSupport")),
    );
    box.append(panel);
    if (!sources.length) return;
    box.append(el("h2", { class: "section-title" }, t(data.supported ? "sources" : "closest")));
    box.append(el("ol", { class: "hits" }, ...sources.map((hit, i) => hitCard(hit, result.paragraphs[i], true))));
  }

  function renderResults() {
    const box = byId("results");
    box.replaceChildren();
    const result = state.last;
    if (!result) return;
    if (result.mode === "cite") renderClaim(box, result);
    else renderAsk(box, result);
  }

  async function search(event) {
    event.preventDefault();
    clearError();
    const mode = currentMode();
    const query = byId("query").value.trim();
    if (!query) {
      showError(t(mode === "cite" ? "emptyCite" : "emptyAsk"));
      byId("query").focus();
      return;
    }
    const topK = Number(byId("top-k").value) || 5;
    const seq = ++state.searchSeq;
    setLoading(true);
    try {
      const data =
        mode === "cite"
          ? await api("POST", "/v1/cite", { claim: query, top_k: topK })
          : await api("POST", "/v1/ask", { question: query, top_k: topK });
      const hits = (mode === "cite" ? data.sources : data.hits) || [];
      const spans = new Map();
      const paragraphs = await Promise.all(hits.map((hit) => fetchParagraph(hit, spans)));
      if (seq !== state.searchSeq) return;
      state.last = { mode, query, data, paragraphs };
      renderResults();
      const failed = paragraphs.find((p) => p.error);
      if (failed) showError(failed.error, t("paragraphError"));
    } catch (error) {
      if (seq === state.searchSeq) showError(error);
    } finally {
      if (seq === state.searchSeq) setLoading(false);
    }
  }

  // ---------------------------------------------------------------- the document view

  function backLink() {
    const link = el("a", { href: "#", class: "back", "data-testid": "back" }, t(state.last ? "back" : "backSearch"));
    link.addEventListener("click", (event) => {
      if (state.fromResults) {
        event.preventDefault();
        history.back();
      }
    });
    return link;
  }

  function safeUrl(value) {
    try {
      const url = new URL(String(value), window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function lineOf(text, offset) {
    let line = 1;
    for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line += 1;
    return line;
  }

  function documentMeta(doc, start, end, valid) {
    const rows = [];
    const row = (label, value) => rows.push(el("div", null, el("dt", null, t(label)), el("dd", null, value)));
    row("metaId", el("code", null, String(doc.id)));
    const page = valid ? pageOf(doc, start) : null;
    const where = `${doc.id}:${lineOf(doc.text, start)} [${start}, ${end})${page ? ` ${t("page", page)}` : ""}`;
    if (valid) row("metaLocation", el("code", null, where));
    if (typeof doc.file === "string" && doc.file.startsWith("/v1/documents/")) {
      row("metaFile", fileLink(doc.file, page, "doc-file"));
    }
    if (doc.date) row("metaDate", String(doc.date));
    if (doc.publisher) row("metaPublisher", String(doc.publisher));
    if (doc.author) row("metaAuthor", String(doc.author));
    const url = doc.url ? safeUrl(doc.url) : null;
    if (url) row("metaUrl", el("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, url));
    else if (doc.url) row("metaUrl", String(doc.url));
    const citation = doc.citation ? citationText({ ...doc, source: doc.id, line: 1 }, currentStyle()) : null;
    if (citation) row("metaCitation", citation);
    return el("dl", { class: "doc-meta" }, ...rows);
  }

  /** The page (1-based) holding `offset`, from the document's page starts; null without pages. */
  function pageOf(doc, offset) {
    const pages = Array.isArray(doc.pages) ? doc.pages : [];
    let page = null;
    pages.forEach((start, i) => {
      if (Number.isInteger(start) && start <= offset) page = i + 1;
    });
    return page;
  }

  /** The document text with a "p. N" marker where each page starts (none for a document without pages). */
  function pagedText(doc, text, layers) {
    const pages = (Array.isArray(doc.pages) ? doc.pages : []).filter((p) => Number.isInteger(p) && p >= 0 && p <= text.length);
    if (!pages.length) return highlighted(text, 0, layers);
    const frag = document.createDocumentFragment();
    pages.forEach((start, i) => {
      const end = i + 1 < pages.length ? Math.max(pages[i + 1], start) : text.length;
      frag.append(el("span", { class: "page-marker", "data-testid": "page-marker", "data-page": i + 1 }, t("page", i + 1)));
      frag.append(highlighted(text.slice(start, end), start, layers));
    });
    if (pages[0] > 0) frag.prepend(highlighted(text.slice(0, pages[0]), 0, layers));
    return frag;
  }

  function renderDocument() {
    const { data: doc, start, end } = state.doc;
    const text = String(doc.text ?? "");
    const valid = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= text.length;
    const layers = valid
      ? [{ ranges: [[start, end]], make: () => el("mark", { id: "target", class: "cited", "data-testid": "doc-target", tabindex: "-1" }) }]
      : [];
    fill(
      byId("doc-view"),
      backLink(),
      el("h2", { id: "doc-title", class: "doc-title" }, String(doc.title || doc.id)),
      documentMeta(doc, start, end, valid),
      valid || start === null ? null : el("p", { class: "notice" }, t("badSpan")),
      el("div", { class: "doc-text", lang: "zh", "data-testid": "doc-text" }, pagedText(doc, text, layers)),
    );
  }

  function intParam(params, name) {
    const raw = params.get(name);
    return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  }

  async function showDocument(params) {
    const id = params.get("doc");
    const start = intParam(params, "start");
    const end = intParam(params, "end");
    const view = byId("doc-view");
    clearError();
    byId("search-view").hidden = true;
    view.hidden = false;
    view.replaceChildren(backLink(), el("p", { class: "status" }, t("docLoading")));
    const seq = ++state.docSeq;
    let doc;
    try {
      doc = await fetchDocument(id);
    } catch (error) {
      if (seq === state.docSeq) showError(error);
      return;
    }
    if (seq !== state.docSeq) return;
    state.doc = { data: doc, start, end };
    renderDocument();
    const target = byId("target");
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    } else {
      window.scrollTo(0, 0);
    }
  }

  function showSearch() {
    state.docSeq += 1; // a document still loading is not shown any more
    state.doc = null;
    clearError();
    byId("doc-view").hidden = true;
    byId("doc-view").replaceChildren();
    byId("search-view").hidden = false;
    if (state.fromResults) {
      window.scrollTo(0, state.resultsScroll);
      state.fromResults = false;
    }
  }

  function route() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    if (params.get("doc")) showDocument(params);
    else showSearch();
  }

  // ---------------------------------------------------------------- language and mode

  function initialLanguage() {
    const saved = storeGet(STORE_LANG);
    if (saved === "zh" || saved === "en") return saved;
    const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return preferred.toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  function applyMode() {
    const cite = currentMode() === "cite";
    const query = byId("query");
    query.placeholder = t(cite ? "placeholderCite" : "placeholderAsk");
    byId("query-label").textContent = t(cite ? "queryCite" : "queryAsk");
    byId("submit").textContent = t(cite ? "submitCite" : "submitAsk");
    document.body.dataset.mode = cite ? "cite" : "ask";
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    const toggle = byId("lang");
    toggle.textContent = t("langButton");
    toggle.setAttribute("aria-label", t("langSwitch"));
    toggle.setAttribute("lang", state.lang === "zh" ? "en" : "zh-CN");
    applyMode();
    if (byId("status").hidden === false) setLoading(true);
    renderResults();
    if (state.doc) {
      const y = window.scrollY;
      renderDocument();
      window.scrollTo(0, y);
    }
  }

  function toggleLanguage() {
    state.lang = state.lang === "zh" ? "en" : "zh";
    storeSet(STORE_LANG, state.lang);
    applyLanguage();
  }

  function changeStyle() {
    storeSet(STORE_STYLE, currentStyle());
    renderResults();
    if (state.doc) renderDocument();
  }

  function init() {
    state.lang = initialLanguage();
    const style = storeGet(STORE_STYLE);
    if (STYLES.includes(style)) byId("style").value = style;
    byId("search").addEventListener("submit", search);
    for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", applyMode);
    byId("lang").addEventListener("click", toggleLanguage);
    byId("style").addEventListener("change", changeStyle);
    window.addEventListener("hashchange", route);
    applyLanguage();
    route();
  }

  init();
})();
