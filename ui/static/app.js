() => {
  // Clicking (or Enter on) a [n] marker opens that citation under the answer and in the
  // sources panel, and scrolls the sources panel to it. Hovering shows it (title attribute).
  const open = (marker) => {
    const cls = Array.from(marker.classList).find((c) => /^rag-c-\d+-\d+$/.test(c));
    if (!cls) return;
    const id = cls.slice("rag-c-".length);
    const message = marker.closest(".message") || document;
    message.querySelectorAll("details.rag-cite-detail." + cls).forEach((d) => { d.open = true; });
    const source = document.getElementById("src-" + id);
    if (source) {
      source.open = true;
      source.scrollIntoView({ behavior: "smooth", block: "nearest" });
      source.classList.add("rag-flash");
      setTimeout(() => source.classList.remove("rag-flash"), 1600);
    }
  };
  document.addEventListener("click", (e) => {
    const marker = e.target.closest && e.target.closest(".rag-cite");
    if (marker) open(marker);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    const marker = e.target.closest && e.target.closest(".rag-cite");
    if (marker) open(marker);
  });
}
