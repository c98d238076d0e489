() => {
  // Citations: hovering or focusing a [n] marker shows a popover with the article's title and
  // the quoted passage; clicking it (or Enter) opens the passage under the answer and shows that
  // answer's sources in the sources panel, scrolled to the passage. Copy / Copy as Markdown
  // put the plain text the server rendered (hidden, one span a line) on the clipboard.
  const citeClass = (marker) => Array.from(marker.classList).find((c) => /^rag-c-\d+-\d+$/.test(c));
  const messageOf = (el) => el.closest(".message") || el.closest(".message-wrap") || document;

  const pop = document.createElement("div");
  pop.id = "rag-pop";
  pop.setAttribute("role", "tooltip");
  pop.hidden = true;
  document.body.appendChild(pop);
  let popFor = null;
  let pinned = false;     // opened by a click or Enter: stays until Escape or a click elsewhere

  const showPop = (marker) => {
    const cls = citeClass(marker);
    if (!cls) return;
    const detail = messageOf(marker).querySelector("details.rag-cite-detail." + cls);
    if (!detail) return;
    const title = detail.querySelector(".rag-cite-title");
    const quote = detail.querySelector("blockquote");
    pop.replaceChildren();
    const head = document.createElement("div");
    head.className = "rag-pop-title";
    head.textContent = marker.textContent + " " + (title ? title.textContent : "");
    const body = document.createElement("blockquote");
    body.textContent = quote ? quote.textContent : "";
    pop.append(head, body);
    pop.hidden = false;
    popFor = marker;
    marker.setAttribute("aria-describedby", "rag-pop");
    const r = marker.getBoundingClientRect();
    const width = Math.min(360, window.innerWidth - 16);
    pop.style.width = width + "px";
    const left = Math.max(8, Math.min(r.left + window.scrollX - 20, window.scrollX + window.innerWidth - width - 8));
    pop.style.left = left + "px";
    const below = r.bottom + window.scrollY + 6;
    pop.style.top = below + "px";
    const h = pop.getBoundingClientRect().height;
    if (r.bottom + 6 + h > window.innerHeight && r.top - 6 - h > 0) {
      pop.style.top = (r.top + window.scrollY - 6 - h) + "px";
    }
  };
  const hidePop = () => {
    if (popFor) popFor.removeAttribute("aria-describedby");
    pop.hidden = true;
    popFor = null;
    pinned = false;
  };

  // Opening the passage under an answer makes the message taller, and Gradio then scrolls a chat
  // that sat at its bottom down to the new bottom, carrying the tapped marker (and its popover)
  // away. For a moment after a tap, scroll the chat back so the marker stays where it was.
  let holdUntil = 0;
  const keepInPlace = (marker) => {
    const box = marker.closest(".bubble-wrap");
    if (!box) return;
    const top = marker.getBoundingClientRect().top;
    holdUntil = performance.now() + 1000;
    const hold = () => {
      if (!marker.isConnected) { holdUntil = 0; return; }   // the chat was drawn anew
      const drift = marker.getBoundingClientRect().top - top;
      if (Math.abs(drift) > 1) {
        box.scrollTop += drift;
        if (popFor === marker) showPop(marker);
      }
      if (performance.now() < holdUntil) requestAnimationFrame(hold);
    };
    requestAnimationFrame(hold);
  };

  const open = (marker) => {
    const cls = citeClass(marker);
    if (!cls) return;
    const id = cls.slice("rag-c-".length);
    const turn = id.split("-")[0];
    messageOf(marker).querySelectorAll("details.rag-cite-detail." + cls).forEach((d) => { d.open = true; });
    keepInPlace(marker);
    document.querySelectorAll("#rag-sources .rag-src-turn").forEach((g) => {
      g.classList.toggle("rag-hidden", !g.classList.contains("rag-src-turn-" + turn));
    });
    const source = document.getElementById("src-" + id);
    if (source) {
      source.open = true;
      // scroll to it when the panel is on screen (beside the chat); on a phone, where the panel
      // is below the chat, the page stays put and the popover shows the passage
      const panel = document.querySelector("#rag-sources").getBoundingClientRect();
      if (panel.top < window.innerHeight && panel.bottom > 0) {
        source.scrollIntoView({ behavior: "smooth", block: "nearest" });
      }
      source.classList.add("rag-flash");
      setTimeout(() => source.classList.remove("rag-flash"), 1600);
    }
  };

  const lines = (el) => (el ? Array.from(el.children).map((s) => s.textContent).join("\n") : "");
  const copy = async (button) => {
    const scope = button.closest(".message") || button.parentElement.parentElement;
    const kind = button.classList.contains("rag-copy-md") ? ".rag-copy-markdown" : ".rag-copy-plain";
    const text = lines(scope.querySelector(kind));
    try {
      await navigator.clipboard.writeText(text);
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = button.dataset.label; }, 1200);
    } catch (e) {
      button.textContent = "Copy failed";
    }
  };

  const act = (target) => {
    const button = target.closest && target.closest(".rag-copy, .rag-copy-md");
    if (button) { copy(button); return true; }
    const marker = target.closest && target.closest(".rag-cite");
    if (marker) { open(marker); showPop(marker); pinned = true; return true; }
    return false;
  };
  document.addEventListener("click", (e) => {
    if (!act(e.target) && !pop.contains(e.target)) hidePop();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { hidePop(); return; }
    if (e.key !== "Enter" && e.key !== " ") return;
    if (e.target.closest && e.target.closest(".rag-cite, .rag-copy, .rag-copy-md")) {
      e.preventDefault();
      act(e.target);
    }
  });
  document.addEventListener("mouseover", (e) => {
    const marker = e.target.closest && e.target.closest(".rag-cite");
    if (marker && marker !== popFor) showPop(marker);
  });
  document.addEventListener("mouseout", (e) => {
    const marker = e.target.closest && e.target.closest(".rag-cite");
    if (marker && !pinned && !(e.relatedTarget && (marker.contains(e.relatedTarget) || pop.contains(e.relatedTarget)))) hidePop();
  });
  pop.addEventListener("mouseleave", () => { if (!pinned) hidePop(); });
  // the chat scrolls under a shown popover: keep it beside its marker, or close it when the
  // marker has scrolled out of sight (of the page or of the chat's own scrolling box)
  const inSight = (marker) => {
    const r = marker.getBoundingClientRect();
    const box = (marker.closest(".bubble-wrap") || document.documentElement).getBoundingClientRect();
    return r.bottom > Math.max(0, box.top) && r.top < Math.min(window.innerHeight, box.bottom);
  };
  document.addEventListener("scroll", () => {
    if (popFor && performance.now() >= holdUntil) { if (inSight(popFor)) showPop(popFor); else hidePop(); }
  }, true);
  document.addEventListener("focusin", (e) => {
    const marker = e.target.closest && e.target.closest(".rag-cite");
    if (marker) showPop(marker);
  });
  document.addEventListener("focusout", (e) => {
    if (!pinned && e.target.closest && e.target.closest(".rag-cite")) hidePop();
  });

  // On a phone the chats sidebar starts closed (open, it would cover the chat).
  const closeSidebar = (tries) => {
    const bar = document.querySelector("#rag-sidebar");
    if (bar && bar.classList.contains("open")) bar.querySelector(".toggle-button").click();
    else if (!bar && tries > 0) setTimeout(() => closeSidebar(tries - 1), 100);
  };
  if (window.innerWidth < 768) closeSidebar(100);
}
