/** Short-lived confirmations ("Saved version 3"); errors stay on the page instead. */
export type Toast = { id: number; message: string; kind: "success" | "error" };

class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;

  show(message: string, kind: Toast["kind"] = "success"): void {
    const id = this.#next++;
    this.items.push({ id, message, kind });
    setTimeout(() => this.dismiss(id), 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((toast) => toast.id !== id);
  }
}

export const toasts = new Toasts();
