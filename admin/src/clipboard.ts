/**
 * Copying a secret shown once. The Clipboard API needs a secure context (https or 127.0.0.1/localhost)
 * and the page's focus; where it is missing or refused, the text in a read-only field is selected and
 * copied the old way (execCommand), and where that fails too the caller tells the user to copy the
 * selected text themselves.
 */
export async function copyText(text: string, fallbackField: HTMLInputElement | HTMLTextAreaElement | null): Promise<'copied' | 'selected'> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return 'copied';
    }
  } catch {
    // refused (no permission, page not focused): fall back below
  }
  if (fallbackField) {
    fallbackField.focus();
    fallbackField.select();
    try {
      // Deprecated, but the only way without the Clipboard API; it copies the selection.
      if (document.execCommand('copy')) return 'copied';
    } catch {
      // not supported
    }
  }
  return 'selected';
}
